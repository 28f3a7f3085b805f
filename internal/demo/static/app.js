// The khqrbot demo page: two Telegram-like chats kept live by server-sent
// events, and the simulated bank app that pays the bot's QRs.
"use strict";

const state = {
  bot: "",
  people: [], // {id, name, role, lang}
  panes: new Map(), // user id -> pane
};

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// toast shows the bot's answer to a button, as Telegram does at the top of the chat.
function toast(text, alert) {
  const box = document.getElementById("toasts");
  const t = document.createElement("div");
  t.className = alert ? "toast alert" : "toast";
  t.textContent = text;
  if (alert) {
    t.setAttribute("role", "alert");
    const ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = "OK";
    ok.addEventListener("click", () => t.remove());
    t.append(ok);
    box.append(t);
    ok.focus();
    return;
  }
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}

function timeOf(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

// startParam returns the start parameter of a t.me link to our bot, or null.
function startParam(href) {
  let u;
  try { u = new URL(href); } catch { return null; }
  if (u.hostname !== "t.me" || u.pathname.replace(/^\//, "").toLowerCase() !== state.bot.toLowerCase()) return null;
  return u.searchParams.get("start") || "";
}

// openLink follows a link as Telegram would: a start link opens the bot in
// the customer's chat, a Bakong deeplink opens the bank app, anything else
// a new tab.
function openLink(href, from) {
  const start = startParam(href);
  if (start !== null) {
    const customer = state.people.find(p => p.role === "Customer") || from;
    const pane = state.panes.get(customer.id);
    send(pane, start ? "/start " + start : "/start");
    pane.input.focus();
    return;
  }
  if (/^https:\/\/bakongsim\.page\.link\//.test(href)) {
    openBank(href, from);
    return;
  }
  window.open(href, "_blank", "noopener");
}

// linkify appends text to el with its URLs as links.
function linkify(el, text, pane) {
  const re = /https?:\/\/[^\s<>"]+/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    el.append(text.slice(last, m.index));
    const a = document.createElement("a");
    a.href = m[0];
    a.textContent = m[0];
    a.rel = "noopener";
    a.target = "_blank";
    a.addEventListener("click", e => { e.preventDefault(); openLink(a.href, pane.person); });
    el.append(a);
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
}

function renderMessage(pane, m) {
  const li = document.createElement("li");
  li.className = "msg " + (m.fromBot ? "in" : "out");
  li.dataset.id = m.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (m.photo) {
    const img = document.createElement("img");
    img.src = "/demo/file/" + encodeURIComponent(m.photo);
    img.alt = "Photo";
    img.className = "photo";
    img.addEventListener("load", () => pane.stickToBottom && scrollDown(pane));
    bubble.append(img);
  }
  if (m.document) {
    const a = document.createElement("a");
    a.className = "doc";
    a.href = "/demo/file/" + encodeURIComponent(m.document.id) + "?download";
    a.download = m.document.name;
    const icon = document.createElement("span");
    icon.className = "doc-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "📄";
    const name = document.createElement("span");
    name.className = "doc-name";
    name.textContent = m.document.name + " (" + Math.max(1, Math.round(m.document.size / 1024)) + " KB)";
    a.append(icon, name);
    bubble.append(a);
  }
  const body = m.text || m.caption;
  if (body) {
    const p = document.createElement("div");
    p.className = "text";
    linkify(p, body, pane);
    bubble.append(p);
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = (m.edited ? "edited " : "") + timeOf(m.date);
  bubble.append(meta);
  li.append(bubble);
  if (m.keyboard && m.keyboard.length) {
    const kb = document.createElement("div");
    kb.className = "keyboard";
    for (const row of m.keyboard) {
      const r = document.createElement("div");
      r.className = "kb-row";
      for (const b of row) r.append(renderButton(pane, m, b));
      kb.append(r);
    }
    li.append(kb);
  }
  return li;
}

function renderButton(pane, m, b) {
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "kb-btn";
  btn.textContent = b.text;
  if (b.url) {
    const arrow = document.createElement("span");
    arrow.className = "kb-link";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = "↗";
    btn.append(arrow);
    btn.addEventListener("click", () => openLink(b.url, pane.person));
  } else if (b.callback) {
    btn.addEventListener("click", () => press(pane, m.id, b.callback, btn));
  } else if (b.copy) {
    btn.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(b.copy); toast("Copied to clipboard"); } catch { toast(b.copy); }
    });
  }
  return btn;
}

async function press(pane, id, data, btn) {
  btn.setAttribute("aria-busy", "true");
  btn.classList.add("busy");
  try {
    const a = await api("/demo/press", {user: pane.person.id, message: id, data: data, lang: pane.lang()});
    if (a.text) toast(a.text, a.showAlert);
    else if (!a.answered) toast("The bot did not answer.");
  } catch (e) {
    toast(e.message, true);
  } finally {
    btn.removeAttribute("aria-busy");
    btn.classList.remove("busy");
  }
}

async function send(pane, text) {
  text = text.trim();
  if (!text) return;
  pane.stickToBottom = true;
  try {
    await api("/demo/send", {user: pane.person.id, text: text, lang: pane.lang()});
  } catch (e) {
    toast(e.message, true);
  }
}

function scrollDown(pane) {
  pane.list.scrollTop = pane.list.scrollHeight;
}

// renderChat brings a pane's messages up to msgs, replacing only the
// messages that changed, so edits happen in place and focus survives.
function renderChat(pane, msgs) {
  const seen = new Set();
  let added = false;
  let prev = null;
  for (const m of msgs) {
    seen.add(m.id);
    const key = JSON.stringify(m);
    const old = pane.msgs.get(m.id);
    let el;
    if (!old) {
      el = renderMessage(pane, m);
      if (prev) prev.after(el); else pane.list.prepend(el);
      added = true;
    } else if (old.key !== key) {
      el = renderMessage(pane, m);
      const focused = old.el.contains(document.activeElement) ? document.activeElement.textContent : null;
      old.el.replaceWith(el);
      if (focused !== null) {
        const again = [...el.querySelectorAll("button, a")].find(x => x.textContent === focused);
        (again || pane.input).focus();
      }
    } else {
      el = old.el;
    }
    pane.msgs.set(m.id, {el, key});
    prev = el;
  }
  for (const [id, old] of pane.msgs) {
    if (!seen.has(id)) {
      old.el.remove();
      pane.msgs.delete(id);
    }
  }
  if (added && pane.stickToBottom) scrollDown(pane);
}

async function loadMenu(pane) {
  const list = pane.menu.querySelector(".menu-list");
  list.replaceChildren();
  let cmds = [];
  try {
    cmds = await api("/demo/commands?user=" + pane.person.id + "&lang=" + pane.lang());
  } catch (e) {
    toast(e.message, true);
  }
  if (!cmds.length) {
    const li = document.createElement("li");
    li.textContent = "The bot has set no commands yet.";
    list.append(li);
  }
  for (const c of cmds) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "menu-item";
    const name = document.createElement("span");
    name.className = "cmd";
    name.textContent = "/" + c.command;
    const desc = document.createElement("span");
    desc.className = "cmd-desc";
    desc.textContent = c.description;
    b.append(name, desc);
    b.addEventListener("click", () => { closeMenu(pane); send(pane, "/" + c.command); pane.input.focus(); });
    li.append(b);
    list.append(li);
  }
}

async function openMenu(pane) {
  await loadMenu(pane);
  pane.menu.hidden = false;
  pane.menuBtn.setAttribute("aria-expanded", "true");
  const first = pane.menu.querySelector("button");
  if (first) first.focus();
}

function closeMenu(pane) {
  pane.menu.hidden = true;
  pane.menuBtn.setAttribute("aria-expanded", "false");
}

function makePane(person) {
  const tpl = document.getElementById("pane-tpl").content.firstElementChild.cloneNode(true);
  const role = person.role;
  tpl.setAttribute("aria-label", role + " chat: " + person.name + (role === "Merchant" ? " (admin)" : ""));
  tpl.classList.add(role.toLowerCase());
  tpl.querySelector(".bot-name").textContent = state.bot;
  tpl.querySelector(".who").textContent = role + ": " + person.name;
  const select = tpl.querySelector(".lang-select");
  select.value = person.lang;
  const pane = {
    person, el: tpl,
    list: tpl.querySelector(".messages"),
    input: tpl.querySelector(".input"),
    menu: tpl.querySelector(".menu"),
    menuBtn: tpl.querySelector(".menu-btn"),
    msgs: new Map(),
    stickToBottom: true,
    lang: () => select.value,
  };
  pane.list.setAttribute("aria-label", "Messages with " + state.bot);
  pane.menu.id = "menu-" + person.id;
  pane.menuBtn.setAttribute("aria-controls", pane.menu.id);
  select.setAttribute("aria-label", "Language of " + person.name);
  select.addEventListener("change", () => { if (!pane.menu.hidden) loadMenu(pane); });
  pane.list.addEventListener("scroll", () => {
    pane.stickToBottom = pane.list.scrollHeight - pane.list.scrollTop - pane.list.clientHeight < 40;
  });
  tpl.querySelector(".composer").addEventListener("submit", e => {
    e.preventDefault();
    const text = pane.input.value;
    pane.input.value = "";
    send(pane, text);
  });
  pane.menuBtn.addEventListener("click", () => pane.menu.hidden ? openMenu(pane) : closeMenu(pane));
  pane.menu.addEventListener("keydown", e => {
    if (e.key === "Escape") { closeMenu(pane); pane.menuBtn.focus(); }
  });
  return pane;
}

function render(snap) {
  if (!state.panes.size) {
    state.bot = snap.bot;
    state.people = snap.people;
    const main = document.getElementById("chats");
    for (const p of snap.people) {
      const pane = makePane(p);
      state.panes.set(p.id, pane);
      main.append(pane.el);
    }
    main.removeAttribute("aria-busy");
  }
  for (const p of state.people) renderChat(state.panes.get(p.id), snap.chats[p.id] || []);
}

// The bank app: what a customer's banking app shows after a Pay with Bakong link.
const bank = {link: "", from: null};

function money(amount, currency) {
  return amount + " " + currency;
}

async function openBank(link, from) {
  const d = document.getElementById("bank");
  bank.link = link;
  bank.from = from;
  document.getElementById("bank-result").textContent = "";
  let bill;
  try {
    bill = await api("/demo/bank?link=" + encodeURIComponent(link));
  } catch (e) {
    toast(e.message, true);
    return;
  }
  document.getElementById("bank-merchant").textContent = bill.merchant;
  document.getElementById("bank-account").textContent = bill.account;
  document.getElementById("bank-amount").textContent = money(bill.amount, bill.currency);
  document.getElementById("bank-expires").textContent = bill.expiresAt ? new Date(bill.expiresAt).toLocaleTimeString() : "no expiry";
  document.getElementById("bank-pay").textContent = "Pay exactly " + money(bill.amount, bill.currency);
  document.getElementById("bank-wrong").textContent = "Pay a wrong amount: " + money(bill.wrong, bill.currency);
  for (const b of d.querySelectorAll("[data-how]")) b.disabled = false;
  if (!d.open) d.showModal();
  document.getElementById("bank-pay").focus();
}

async function bankPay(how) {
  const out = document.getElementById("bank-result");
  const buttons = document.querySelectorAll("#bank [data-how]");
  for (const b of buttons) b.disabled = true;
  try {
    const r = await api("/demo/bank/pay", {link: bank.link, how: how});
    out.textContent = r.status === "paid"
      ? "Paid " + money(r.amount, r.currency) + ". Transaction " + r.hash + ". The bot will see it in a moment."
      : "The bank reports the payment failed.";
  } catch (e) {
    out.textContent = e.message;
  }
  document.querySelector("#bank button[value=close]").focus();
}

function main() {
  for (const b of document.querySelectorAll("#bank [data-how]")) {
    b.addEventListener("click", () => bankPay(b.dataset.how));
  }
  document.getElementById("bank").addEventListener("close", () => {
    const pane = bank.from && state.panes.get(bank.from.id);
    if (pane) pane.input.focus();
  });
  document.addEventListener("keydown", e => {
    if (e.key !== "Escape") return;
    for (const pane of state.panes.values()) if (!pane.menu.hidden) closeMenu(pane);
  });
  const es = new EventSource("/demo/events");
  es.addEventListener("message", e => render(JSON.parse(e.data)));
}

main();
