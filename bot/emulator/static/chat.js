/* Homeward sandbox web chat: two private chats with the bot, drawn as Telegram shows them.

   Messages arrive from /chat/api/ as visible text plus Telegram entities and are built
   with DOM nodes (text nodes only, never parsed as markup), so nothing the bot or a user typed
   can become markup. Each pane long-polls its chat: the server answers when the chat's
   version changes, so edits, deletions and new messages show without a reload. */
"use strict";

const world = { bot: { username: "" }, personas: [], places: [], byId: new Map() };
const panes = [];
const SAFE_LINK = /^(https?:|tg:)/i;
const TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  blockquote: "blockquote", expandable_blockquote: "blockquote",
};

// ---- talking to the emulator -------------------------------------------------------
async function call(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new Error((body && body.error) || `The sandbox answered ${response.status}.`);
  }
  return body;
}

function postJson(path, data) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- small DOM helpers -----------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeLink(href, text) {
  if (!SAFE_LINK.test(href)) return el("span", "link-refused", text);
  const a = el("a", null, text);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

// ---- Telegram entities to DOM nodes ----------------------------------------------
// Offsets are UTF-16 code units, which is exactly how JavaScript indexes strings.
const PLAIN_URL = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;
const NO_AUTOLINK = new Set(["text_link", "url", "code", "pre"]);

function richText(text, entities) {
  const sorted = (entities || [])
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const fragment = document.createDocumentFragment();
  build(fragment, text, sorted, 0, text.length, true);
  return fragment;
}

function build(parent, text, entities, start, end, autolink) {
  const plain = (from, to) => appendPlain(parent, text.slice(from, to), autolink);
  let cursor = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const from = Math.max(entity.offset, cursor);
    const to = Math.min(entity.offset + entity.length, end);
    let next = index + 1;
    while (next < entities.length && entities[next].offset < to) next += 1;
    if (from < to) {
      if (cursor < from) plain(cursor, from);
      const node = entityNode(entity, text.slice(from, to));
      const inner = autolink && !NO_AUTOLINK.has(entity.type);
      build(node, text, entities.slice(index + 1, next), from, to, inner);
      parent.append(node);
      cursor = to;
    }
    index = next;
  }
  if (cursor < end) plain(cursor, end);
}

// Telegram's clients turn plain web addresses into links; so does this page.
function appendPlain(parent, segment, autolink) {
  if (!autolink) {
    parent.append(segment);
    return;
  }
  let cursor = 0;
  for (const match of segment.matchAll(PLAIN_URL)) {
    parent.append(segment.slice(cursor, match.index), safeLink(match[0], match[0]));
    cursor = match.index + match[0].length;
  }
  parent.append(segment.slice(cursor));
}

function entityNode(entity, covered) {
  if (entity.type === "text_link") return safeLink(String(entity.url || ""), "");
  if (entity.type === "url") return safeLink(covered, "");
  if (entity.type === "spoiler") {
    const span = el("span", "spoiler");
    span.tabIndex = 0;
    span.setAttribute("role", "button");
    span.setAttribute("aria-label", "Spoiler: press to reveal");
    const reveal = () => {
      span.classList.add("revealed");
      span.removeAttribute("role");
      span.removeAttribute("aria-label");
    };
    span.addEventListener("click", reveal);
    span.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") reveal();
    });
    return span;
  }
  if (entity.type === "bot_command") return el("span", "command");
  return el(TAGS[entity.type] || "span");
}

// ---- pins --------------------------------------------------------------------------
function distanceKm(a, b) {
  const rad = (deg) => (deg * Math.PI) / 180;
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2
    + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function pinNode(pin, persona) {
  const box = el("div", "pin");
  const icon = el("img", "pin-icon");
  icon.src = "/chat/static/pin.svg";
  icon.alt = "";
  const body = el("div", "pin-body");
  body.append(el("strong", "pin-title", pin.title || "Location"));
  if (pin.address) body.append(el("span", "pin-address", pin.address));
  body.append(el("span", "pin-coords", `${pin.latitude.toFixed(5)}, ${pin.longitude.toFixed(5)}`));
  if (persona && persona.area) {
    const km = distanceKm(persona.area, pin);
    const where = km <= persona.area.radius_km ? "inside" : "outside";
    const shown = km < 10 ? km.toFixed(1) : km.toFixed(0);
    body.append(el("span", "pin-distance",
      `${shown} km from the centre of this persona's area (${where} its ${persona.area.radius_km} km)`));
  }
  box.append(icon, body);
  return box;
}

// ---- one message -------------------------------------------------------------------
function timeNode(iso) {
  const node = el("time", null, new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  node.dateTime = iso;
  return node;
}

function messageNode(message, pane) {
  const item = el("li", `msg ${message.from_bot ? "from-bot" : "from-me"}`);
  item.dataset.id = String(message.id);
  if (message.deleted) {
    item.classList.add("deleted");
    item.append(el("p", "deleted-note", "Message deleted"));
    return item;
  }
  const bubble = el("div", "bubble");
  if (message.protected) item.classList.add("protected");
  if (message.forwarded) bubble.append(el("p", "forwarded", "Forwarded message"));
  if (message.photo) {
    const img = el("img", "photo");
    img.alt = "Photo";
    img.addEventListener("load", () => pane.keepAtBottom());
    img.src = message.photo;
    bubble.append(img);
  }
  if (message.pin) bubble.append(pinNode(message.pin, pane.persona()));
  if (message.text) {
    const text = el("div", "text");
    text.append(richText(message.text, message.entities));
    bubble.append(text);
  }
  const meta = el("p", "meta");
  if (message.protected) {
    const lock = el("span", "lock", "Protected");
    lock.title = "Sent with protect_content: it cannot be forwarded or saved";
    meta.append(lock);
  }
  if (message.edited) meta.append(el("span", "edited", "edited"));
  meta.append(timeNode(message.date));
  bubble.append(meta);
  item.append(bubble);
  if (message.keyboard && message.keyboard.length) item.append(keyboardNode(message, pane));
  return item;
}

function keyboardNode(message, pane) {
  const keyboard = el("div", "keyboard");
  keyboard.setAttribute("role", "group");
  keyboard.setAttribute("aria-label", "Buttons");
  for (const row of message.keyboard) {
    const line = el("div", "kb-row");
    for (const button of row) {
      let node;
      if (button.data !== undefined) {
        node = el("button", "kb-button", button.text);
        node.type = "button";
        node.addEventListener("click", () => pane.press(message.id, button.data, node));
      } else if (button.url !== undefined && SAFE_LINK.test(button.url)) {
        node = safeLink(button.url, `${button.text} ↗`);
        node.classList.add("kb-button");
      } else {  // a kind of button the web chat cannot act on, or a link it refuses
        node = el("button", "kb-button", button.text);
        node.type = "button";
        node.disabled = true;
      }
      line.append(node);
    }
    keyboard.append(line);
  }
  return keyboard;
}

// ---- a pane: one persona's chat ----------------------------------------------------
class Pane {
  constructor(root) {
    this.root = root;
    this.key = root.dataset.key;
    root.append(document.getElementById("pane-template").content.cloneNode(true));
    const q = (selector) => root.querySelector(selector);
    this.select = q(".persona");
    this.area = q(".area");
    this.list = q(".messages");
    this.toastBox = q(".toast");
    this.suggestions = q(".suggestions");
    this.panel = q(".location-panel");
    this.text = q(".composer-text");
    this.form = q(".composer");
    this.userId = null;
    this.version = null;
    this.commands = [];
    this.nodes = new Map();
    this.controller = null;
    this.toastTimer = null;
    this.wire(q);
  }

  wire(q) {
    for (const persona of world.personas) {
      const option = el("option", null, persona.label);
      option.value = String(persona.user_id);
      this.select.append(option);
    }
    this.select.addEventListener("change", () => this.choose(Number(this.select.value)));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText(this.text.value);
    });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      } else if (event.key === "Escape") {
        this.suggestions.hidden = true;
      }
    });
    this.text.addEventListener("input", () => this.suggest());
    const toggle = q(".toggle-location");
    toggle.addEventListener("click", () => {
      this.panel.hidden = !this.panel.hidden;
      toggle.setAttribute("aria-expanded", String(!this.panel.hidden));
    });
    const places = q(".place");
    for (const place of world.places) {
      const option = el("option", null, place.name);
      option.value = place.name;
      places.append(option);
    }
    if (!world.places.length) {
      places.append(el("option", null, "No named places"));
      places.disabled = true;
      q(".share-place").disabled = true;
    }
    q(".share-place").addEventListener("click", () => this.shareLocation({ place: places.value }));
    q(".share-coords").addEventListener("click", () => {
      const number = (input) => (input.value.trim() ? Number(input.value.trim().replace(",", ".")) : NaN);
      const latitude = number(q(".lat"));
      const longitude = number(q(".lon"));
      if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) {
        this.toast("Type a latitude (-90 to 90) and a longitude (-180 to 180), e.g. 46.49 and -80.99.");
        return;
      }
      this.shareLocation({ latitude, longitude });
    });
    const photo = q(".photo-input");
    photo.addEventListener("change", () => {
      if (photo.files.length) this.sendPhoto(photo.files[0]);
      photo.value = "";
    });
    q(".toast-close").addEventListener("click", () => { this.toastBox.hidden = true; });
    // A link to the bot with ?start=CODE starts the bot with that code, as in Telegram.
    this.list.addEventListener("click", (event) => {
      const link = event.target.closest("a[href]");
      if (!link) return;
      const url = new URL(link.href);
      const bot = world.bot.username.toLowerCase();
      if (url.hostname === "t.me" && url.pathname.slice(1).toLowerCase() === bot) {
        event.preventDefault();
        const code = url.searchParams.get("start");
        this.sendText(code ? `/start ${code}` : "/start");
      }
    });
  }

  persona() {
    return world.byId.get(this.userId);
  }

  choose(userId) {
    if (this.controller) this.controller.abort();
    this.userId = userId;
    this.select.value = String(userId);
    this.version = null;
    this.commands = [];
    this.nodes.clear();
    this.list.replaceChildren();
    this.suggestions.hidden = true;
    this.toastBox.hidden = true;
    const persona = this.persona();
    const role = persona.role ? persona.role.replaceAll("_", " ") : "";
    const area = persona.area
      ? `area ${persona.area.latitude.toFixed(3)}, ${persona.area.longitude.toFixed(3)} (${persona.area.radius_km} km)`
      : "";
    this.area.textContent = [role, area].filter(Boolean).join(" · ");
    const tab = document.querySelector(`.switcher [data-show="${this.key}"]`);
    if (tab) tab.textContent = persona.label.split(",")[0];
    saveChoices();
    this.controller = new AbortController();
    this.follow(userId, this.controller.signal);
  }

  async follow(userId, signal) {
    while (!signal.aborted) {
      try {
        const since = this.version ? `?since=${encodeURIComponent(this.version)}` : "";
        const snapshot = await call(`/chat/api/chats/${userId}${since}`, { signal });
        if (signal.aborted) return;
        this.version = snapshot.version;
        this.commands = snapshot.commands;
        this.render(snapshot.messages);
      } catch (error) {
        if (signal.aborted) return;
        this.toast(`Lost touch with the sandbox (${error.message}); trying again.`);
        await pause(2000);
      }
    }
  }

  render(messages) {
    const atBottom = this.isAtBottom();
    const seen = new Set();
    let previous = null;
    for (const message of messages) {
      const key = JSON.stringify(message);
      let entry = this.nodes.get(message.id);
      if (!entry || entry.key !== key) {
        const node = messageNode(message, this);
        if (entry) entry.node.replaceWith(node);
        entry = { key, node };
        this.nodes.set(message.id, entry);
      }
      seen.add(message.id);
      const expected = previous ? previous.nextSibling : this.list.firstChild;
      if (entry.node !== expected) this.list.insertBefore(entry.node, expected);
      previous = entry.node;
    }
    for (const [id, entry] of this.nodes) {
      if (!seen.has(id)) {
        entry.node.remove();
        this.nodes.delete(id);
      }
    }
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  isAtBottom() {
    const list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  keepAtBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  path(action) {
    return `/chat/api/chats/${this.userId}/${action}`;
  }

  async act(work) {
    try {
      return await work();
    } catch (error) {
      this.toast(error.message);
      return null;
    }
  }

  async sendText(text) {
    if (!text.trim()) return;
    this.suggestions.hidden = true;
    const done = await this.act(() => postJson(this.path("text"), { text }));
    if (done && this.text.value === text) this.text.value = "";
    this.keepAtBottom();
  }

  async press(messageId, data, button) {
    button.disabled = true;
    button.classList.add("pending");
    const done = await this.act(() => postJson(this.path("press"), { message_id: messageId, data }));
    button.disabled = false;
    button.classList.remove("pending");
    if (done && done.answer && done.answer.text) this.toast(done.answer.text, done.answer.show_alert);
  }

  async shareLocation(body) {
    const done = await this.act(() => postJson(this.path("location"), body));
    if (done) {
      this.panel.hidden = true;
      this.root.querySelector(".toggle-location").setAttribute("aria-expanded", "false");
      this.keepAtBottom();
    }
  }

  async sendPhoto(file) {
    const form = new FormData();
    form.append("photo", file);
    await this.act(() => call(this.path("photo"), { method: "POST", body: form }));
    this.keepAtBottom();
  }

  suggest() {
    const typed = this.text.value;
    const matches = /^\/\w*$/.test(typed)
      ? this.commands.filter((c) => `/${c.command}`.startsWith(typed.toLowerCase()))
      : [];
    this.suggestions.replaceChildren();
    for (const command of matches) {
      const item = el("li");
      const button = el("button", "suggestion");
      button.type = "button";
      button.append(el("span", "command", `/${command.command}`), el("span", "description", command.description));
      button.addEventListener("click", () => {
        this.text.value = "";
        this.sendText(`/${command.command}`);
        this.text.focus();
      });
      item.append(button);
      this.suggestions.append(item);
    }
    this.suggestions.hidden = matches.length === 0;
  }

  toast(text, sticky = false) {
    this.root.querySelector(".toast-text").textContent = text;
    this.toastBox.hidden = false;
    this.toastBox.classList.toggle("sticky", sticky);
    clearTimeout(this.toastTimer);
    if (!sticky) this.toastTimer = setTimeout(() => { this.toastBox.hidden = true; }, 5000);
  }
}

// ---- the page ----------------------------------------------------------------------
function saveChoices() {
  const params = new URLSearchParams();
  for (const pane of panes) if (pane.userId !== null) params.set(pane.key, String(pane.userId));
  history.replaceState(null, "", `#${params}`);
}

function show(key) {
  document.body.dataset.show = key;
  for (const tab of document.querySelectorAll(".switcher [data-show]")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.show === key));
  }
}

async function start() {
  const info = await call("/chat/api/personas");
  world.bot = info.bot;
  world.personas = info.personas;
  world.places = info.places;
  for (const persona of world.personas) world.byId.set(persona.user_id, persona);
  if (!world.personas.length) {
    document.querySelector(".panes").replaceChildren(
      el("p", "empty", "Nobody is in the sandbox yet: add a user through the emulator first."));
    return;
  }
  for (const tab of document.querySelectorAll(".switcher [data-show]")) {
    tab.addEventListener("click", () => show(tab.dataset.show));
  }
  const wanted = new URLSearchParams(location.hash.slice(1));
  document.querySelectorAll(".pane").forEach((root, i) => {
    const pane = new Pane(root);
    panes.push(pane);
    const asked = Number(wanted.get(pane.key));
    const fallback = world.personas[Math.min(i, world.personas.length - 1)].user_id;
    pane.choose(world.byId.has(asked) ? asked : fallback);
  });
}

start().catch((error) => {
  document.querySelector(".panes").replaceChildren(
    el("p", "empty", `The web chat could not start: ${error.message}`));
});
