"use strict";
// The sandbox phone: hash routes, synchronous JSON API calls (so every input's effect is on screen when the
// input event returns), no clock, no randomness, no animation.
const APPS = [
  {name: "Messages", route: "/messages", colour: "#1a73e8"},
  {name: "Contacts", route: "/contacts", colour: "#188038"},
  {name: "Settings", route: "/settings", colour: "#5f6368"},
  {name: "Notes", route: "/notes", colour: "#f29900"},
  {name: "Gallery", route: "/gallery", colour: "#a142f4"},
];
// A wheel event scrolls a list by half its height, whatever its delta (Chromium scales wheel deltas by the
// device scale factor): one scroll gesture moves half a page, as a half-screen swipe does on Android.
const LONG_PRESS_MS = 500, SWIPE_PX = 50, DRAG_PX = 8, WHEEL_PAGE = 0.5;
const $bar = document.getElementById("bar"), $content = document.getElementById("content");
const $dialog = document.getElementById("dialog");
let state = null, rendered = null, stack = [], error = "";

function api(method, path, body) {
  const x = new XMLHttpRequest();
  x.open(method, "/api" + path, false);
  x.setRequestHeader("Content-Type", "application/json");
  x.send(body === undefined ? null : JSON.stringify(body));
  const data = JSON.parse(x.responseText);
  if (x.status !== 200) throw new Error(data.error || ("HTTP " + x.status));
  return data;
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function currentRoute() { return decodeURIComponent(location.hash.replace(/^#/, "")) || "/home"; }
function go(route) {
  history.pushState(null, "", "#" + route);
  stack.push(route);
  render(route);
}
function back() {
  if (rendered === "/home") return false;
  if (stack.length >= 2) render(stack[stack.length - 2]);
  history.back();
  return true;
}
window.addEventListener("popstate", () => {
  const route = currentRoute();
  if (stack.length >= 2 && stack[stack.length - 2] === route) stack.pop(); else stack = [route];
  if (route !== rendered) render(route);
});
window.sandboxGo = go;
window.sandboxBack = back;
window.sandboxRoute = () => rendered;

function contactById(id) { return state.contacts.find(c => c.id === id); }
function byName(a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; }
function bar(title, opts) {
  opts = opts || {};
  let html = opts.up === false ? "" : '<button id="up" aria-label="Navigate up">&#8592;</button>';
  html += "<h1>" + esc(title) + "</h1>";
  if (opts.action) html += '<button class="action" id="action" aria-label="' + esc(opts.action[1]) + '">' +
    esc(opts.action[0]) + "</button>";
  $bar.innerHTML = html;
  const up = document.getElementById("up");
  if (up) up.addEventListener("click", back);
  if (opts.action) document.getElementById("action").addEventListener("click", opts.action[2]);
}
function on(id, ev, fn) { document.getElementById(id).addEventListener(ev, fn); }
function val(id) { return document.getElementById(id).value; }
function attempt(fn) {
  try { fn(); } catch (e) { error = e.message; render(rendered); }
}

function placeholders() {
  document.querySelectorAll("[data-ph]").forEach(syncPlaceholder);
}
function syncPlaceholder(el) {
  if (el.value) el.removeAttribute("placeholder"); else el.setAttribute("placeholder", el.dataset.ph);
}
document.addEventListener("input", e => { if (e.target.dataset && e.target.dataset.ph) syncPlaceholder(e.target); });

function render(route) {
  state = api("GET", "/state?route=" + encodeURIComponent(route));
  rendered = route;
  document.body.className = state.settings.dark_mode ? "dark" : "";
  $dialog.innerHTML = "";
  const parts = route.split("/").filter(Boolean);
  const screen = SCREENS[parts[0]] || SCREENS.home;
  screen(parts.slice(1));
  placeholders();
  if (error) {
    $content.insertAdjacentHTML("afterbegin", '<div class="error" role="alert">' + esc(error) + "</div>");
    error = "";
  }
}

let drag = null;
window.addEventListener("pointermove", e => { if (drag && drag.move) drag.move(e); });
window.addEventListener("pointerup", e => { const d = drag; drag = null; if (d && d.up) d.up(e); });

function scrollable(el) {
  let moved = false;
  el.addEventListener("pointerdown", e => {
    const y0 = e.clientY, top = el.scrollTop;
    moved = false;
    drag = {move: m => {
      if (Math.abs(m.clientY - y0) > DRAG_PX) moved = true;
      if (moved) el.scrollTop = top - (m.clientY - y0);
    }};
  });
  el.addEventListener("click", e => {
    if (moved) { e.stopPropagation(); e.preventDefault(); moved = false; }
  }, true);
  el.addEventListener("wheel", e => {
    e.preventDefault();
    if (e.deltaY) el.scrollTop += Math.sign(e.deltaY) * Math.round(el.clientHeight * WHEEL_PAGE);
  }, {passive: false});
  el.isDragging = () => moved;
}
function selectOnFocus(id) {
  const el = document.getElementById(id);
  let fresh = false;
  el.addEventListener("focus", () => { fresh = true; });
  el.addEventListener("click", () => { if (fresh) el.select(); fresh = false; });
}

function homeScreen() {
  $bar.innerHTML = "<h1>Home</h1>";
  $content.innerHTML = '<div class="home">' + APPS.map((a, i) =>
    '<button class="app" data-i="' + i + '" aria-label="' + a.name + '"><span class="icon" style="background:' +
    a.colour + '">' + a.name[0] + "</span><span>" + a.name + "</span></button>").join("") + "</div>";
  $content.querySelectorAll(".app").forEach(b => b.addEventListener("click", () => go(APPS[+b.dataset.i].route)));
}

function contactRows(list, target) {
  return list.map(c => '<button class="row" data-id="' + c.id + '"><span>' + esc(c.name) + "</span></button>").join("");
}
function listScreen(html, onRow) {
  $content.innerHTML = '<div class="scroll" id="list">' + html + "</div>";
  const list = document.getElementById("list");
  scrollable(list);
  list.querySelectorAll(".row").forEach(r => r.addEventListener("click", () => onRow(r.dataset.id, r)));
  return list;
}

function messagesScreen(args) {
  if (args[0] === "new") return composeScreen();
  if (args[0]) return conversationScreen(args[0]);
  bar("Messages", {action: ["New", "New message", () => go("/messages/new")]});
  const convs = state.conversations.slice().reverse();
  listScreen(convs.map(cv => {
    const last = cv.messages[cv.messages.length - 1];
    return '<button class="row" data-id="' + cv.contact_id + '"><span>' + esc(contactById(cv.contact_id).name) +
      '</span><span class="sub">' + esc(last ? last.text : "") + "</span></button>";
  }).join(""), id => go("/messages/" + id));
}
function conversationScreen(id) {
  const contact = contactById(id);
  if (!contact) return notFound();
  bar(contact.name);
  const conv = state.conversations.find(c => c.contact_id === id);
  const msgs = conv ? conv.messages.slice(-8) : [];
  $content.innerHTML = '<div class="bubbles">' + msgs.map(m => '<div class="bubble ' + m.sender +
    '" role="listitem" aria-label="' + (m.sender === "me" ? "You" : esc(contact.name)) + ": " + esc(m.text) + '">' +
    esc(m.text) + "</div>").join("") + (msgs.length ? "" : '<p class="hint">No messages yet</p>') +
    '</div><div class="composer"><input id="msg" data-ph="Message">' +
    '<button id="send">Send</button></div>';
  on("send", "click", () => attempt(() => {
    api("POST", "/messages", {contact_id: id, text: val("msg")});
    render(rendered);
  }));
}
function composeScreen() {
  bar("New message");
  $content.innerHTML = '<div class="form"><input id="to" data-ph="To"></div>' +
    '<div id="matches" style="height:640px"></div>';
  const show = () => {
    const q = val("to").trim().toLowerCase();
    const found = state.contacts.filter(c => c.name.toLowerCase().includes(q)).sort(byName);
    document.getElementById("matches").innerHTML = "";
    const box = document.getElementById("matches");
    box.innerHTML = '<div class="scroll" id="list">' + contactRows(found) + "</div>";
    const list = document.getElementById("list");
    scrollable(list);
    list.querySelectorAll(".row").forEach(r => r.addEventListener("click", () => go("/messages/" + r.dataset.id)));
  };
  on("to", "input", show);
  show();
}

function contactsScreen(args) {
  if (args[0] === "new") return contactForm(null);
  if (args[0] && args[1] === "edit") return contactForm(args[0]);
  if (args[0]) return contactDetail(args[0]);
  bar("Contacts", {action: ["+", "Add contact", () => go("/contacts/new")]});
  listScreen(contactRows(state.contacts.slice().sort(byName)), id => go("/contacts/" + id));
}
function contactDetail(id) {
  const c = contactById(id);
  if (!c) return notFound();
  bar("Contact");
  $content.innerHTML = '<div class="detail"><h2>' + esc(c.name) + "</h2>" +
    '<div class="field"><span class="label">Phone</span><span>' + esc(c.phone || "-") + "</span></div>" +
    '<div class="field"><span class="label">Email</span><span>' + esc(c.email || "-") + "</span></div>" +
    '<div class="buttons"><button class="primary" id="edit">Edit</button>' +
    '<button class="primary" id="message">Message</button></div></div>';
  on("edit", "click", () => go("/contacts/" + id + "/edit"));
  on("message", "click", () => go("/messages/" + id));
}
function contactForm(id) {
  const c = id ? contactById(id) : {name: "", phone: "", email: ""};
  if (!c) return notFound();
  bar(id ? "Edit contact" : "New contact");
  $content.innerHTML = '<div class="form">' + [["name", "Name"], ["phone", "Phone"], ["email", "Email"]].map(f =>
    '<label for="' + f[0] + '">' + f[1] + '</label><input id="' + f[0] + '" data-ph="' + f[1] +
    '" value="' + esc(c[f[0]]) + '">').join("") +
    '<button class="primary" id="save">Save</button></div>';
  ["name", "phone", "email"].forEach(selectOnFocus);
  on("save", "click", () => attempt(() => {
    const body = {name: val("name"), phone: val("phone"), email: val("email")};
    if (id) { api("PUT", "/contacts/" + id, body); back(); }
    else { const made = api("POST", "/contacts", body); history.replaceState(null, "", "#/contacts/" + made.id);
           stack[stack.length - 1] = "/contacts/" + made.id; render("/contacts/" + made.id); }
  }));
}

function settingsScreen() {
  bar("Settings");
  const s = state.settings;
  const toggles = [["wifi", "Wi-Fi"], ["bluetooth", "Bluetooth"], ["airplane", "Airplane mode"], ["dark_mode", "Dark mode"]];
  $content.innerHTML = toggles.map(t => '<div class="setting"><span>' + t[1] + '</span><button class="switch" ' +
    'role="switch" data-key="' + t[0] + '" aria-label="' + t[1] + '" aria-checked="' + s[t[0]] +
    '"><span class="knob"></span></button></div>').join("") +
    '<div class="bright"><span id="blabel">Brightness ' + s.brightness + '%</span>' +
    '<div class="slider" id="slider" role="slider" aria-label="Brightness" aria-valuemin="0" aria-valuemax="100" ' +
    'aria-valuenow="' + s.brightness + '"><div class="track"></div><div class="fill" id="fill"></div>' +
    '<div class="thumb" id="thumb"></div></div></div>';
  $content.querySelectorAll(".switch").forEach(b => b.addEventListener("click", () => {
    api("PUT", "/settings", {[b.dataset.key]: !state.settings[b.dataset.key]});
    render(rendered);
  }));
  sliderBehaviour(document.getElementById("slider"), s.brightness);
}
function sliderBehaviour(slider, initial) {
  let value = initial;
  const show = v => {
    value = v;
    document.getElementById("thumb").style.left = (v * 3) + "px";
    document.getElementById("fill").style.width = (v * 3) + "px";
    document.getElementById("blabel").textContent = "Brightness " + v + "%";
    slider.setAttribute("aria-valuenow", String(v));
  };
  const at = e => {
    const r = slider.getBoundingClientRect();
    return Math.max(0, Math.min(100, Math.round((e.clientX - r.left) / r.width * 100)));
  };
  show(initial);
  slider.addEventListener("pointerdown", e => {
    show(at(e));
    drag = {move: m => show(at(m)), up: () => api("PUT", "/settings", {brightness: value})};
  });
}

function notesScreen(args) {
  if (args[0]) return noteForm(args[0] === "new" ? null : args[0]);
  bar("Notes", {action: ["New", "New note", () => go("/notes/new")]});
  const list = listScreen(state.notes.map(n => '<button class="row" data-id="' + n.id + '"><span>' + esc(n.title) +
    '</span><span class="sub">' + esc(n.body) + "</span></button>").join("") +
    '<p class="hint">Long-press a note to delete it</p>', () => {});
  list.querySelectorAll(".row").forEach(r => {
    let t0 = null;
    // Event times (when the browser received the input), not handler times: a busy page thread must not turn
    // a tap into a long press.
    r.addEventListener("pointerdown", e => { t0 = e.timeStamp; });
    r.addEventListener("pointerup", e => {
      if (t0 === null || list.isDragging()) { t0 = null; return; }
      const held = e.timeStamp - t0;
      t0 = null;
      if (held >= LONG_PRESS_MS) confirmDelete(r.dataset.id); else go("/notes/" + r.dataset.id);
    });
  });
}
function confirmDelete(id) {
  const note = state.notes.find(n => n.id === id);
  $dialog.innerHTML = '<div class="box" role="dialog"><span>Delete note "' + esc(note.title) + '"?</span>' +
    '<div class="buttons"><button id="cancel">Cancel</button><button id="delete">Delete</button></div></div>';
  on("cancel", "click", () => { $dialog.innerHTML = ""; });
  on("delete", "click", () => { api("DELETE", "/notes/" + id); render(rendered); });
}
function noteForm(id) {
  const n = id ? state.notes.find(x => x.id === id) : {title: "", body: ""};
  if (!n) return notFound();
  bar(id ? "Edit note" : "New note");
  $content.innerHTML = '<div class="form"><input id="title" data-ph="Title" value="' +
    esc(n.title) + '"><textarea id="body" data-ph="Note"></textarea><button class="primary" id="save">Save</button></div>';
  document.getElementById("body").value = n.body;
  ["title", "body"].forEach(selectOnFocus);
  on("save", "click", () => attempt(() => {
    const body = {title: val("title"), body: val("body")};
    if (id) api("PUT", "/notes/" + id, body); else api("POST", "/notes", body);
    back();
  }));
}

function galleryScreen(args) {
  const photos = state.photos, i = Math.max(0, Math.min(photos.length - 1, +(args[0] || 0)));
  const p = photos[i];
  bar("Gallery");
  $content.innerHTML = '<div class="photo" id="photo" style="background:' + p.colour + '"><span>' + esc(p.title) +
    '</span></div><div class="gallery-info"><span>Photo ' + (i + 1) + " of " + photos.length + '</span>' +
    '<button class="fav" id="fav" aria-label="Favourite" aria-pressed="' + p.favourite + '">' +
    (p.favourite ? "&#9829; Favourite" : "&#9825; Favourite") + '</button></div>' +
    '<p class="hint">Swipe left or right to see more photos</p>';
  const show = j => {
    if (j < 0 || j >= photos.length || j === i) return;
    const route = "/gallery/" + j;
    history.replaceState(null, "", "#" + route);
    stack[stack.length - 1] = route;
    render(route);
  };
  const photo = document.getElementById("photo");
  photo.addEventListener("pointerdown", e => {
    const x0 = e.clientX;
    drag = {up: u => { const dx = u.clientX - x0; if (dx <= -SWIPE_PX) show(i + 1); else if (dx >= SWIPE_PX) show(i - 1); }};
  });
  photo.addEventListener("wheel", e => { e.preventDefault(); if (e.deltaX > 0) show(i + 1); else if (e.deltaX < 0) show(i - 1); },
    {passive: false});
  on("fav", "click", () => { api("PUT", "/photos/" + p.id, {favourite: !p.favourite}); render(rendered); });
}
function notFound() {
  bar("Not found");
  $content.innerHTML = '<p class="hint">This screen does not exist.</p>';
}

const SCREENS = {home: homeScreen, messages: messagesScreen, contacts: contactsScreen, settings: settingsScreen,
                 notes: notesScreen, gallery: galleryScreen};
stack = [currentRoute()];
render(currentRoute());
