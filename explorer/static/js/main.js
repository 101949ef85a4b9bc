// Page router (#studies, #runner, #matrix, #themes, #excerpts) and the API-key form.
import { getKey, setKey } from "./api.js";
import { errorBox, h } from "./ui.js";
import * as studies from "./pages/studies.js";
import * as runner from "./pages/runner.js";
import * as matrix from "./pages/matrix.js";
import * as themes from "./pages/themes.js";
import * as excerpts from "./pages/excerpts.js";

const PAGES = { studies, runner, matrix, themes, excerpts };
const main = document.getElementById("main");
let generation = 0; // a page render that a newer navigation overtook must not write into the page

async function show() {
  const name = window.location.hash.replace(/^#/, "").split(/[/?]/)[0] || "studies"; // #page?filters
  const page = PAGES[name] || studies;
  const mine = ++generation;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.TITLE} — qualkg explorer`;
  main.dataset.state = "loading";
  main.dataset.page = name;
  const body = h("div", {});
  main.replaceChildren(h("h1", {}, page.TITLE), body);
  try {
    await page.render(body);
    if (mine === generation) main.dataset.state = "ready";
  } catch (err) {
    if (mine !== generation) return;
    body.replaceChildren(errorBox(err));
    main.dataset.state = "error";
  }
}

function keyStatus() {
  document.getElementById("key-status").textContent = getKey() ? "Using your key." : "No key: open scopes only.";
}

document.getElementById("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = document.getElementById("api-key");
  setKey(input.value.trim());
  input.value = "";
  keyStatus();
  show();
});
document.getElementById("key-forget").addEventListener("click", () => {
  setKey(null);
  keyStatus();
  show();
});
window.addEventListener("hashchange", () => { show(); main.focus(); });
keyStatus();
show();
