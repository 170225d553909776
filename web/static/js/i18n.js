// The pages' texts: the catalogue of the current language is embedded in the page
// (#page-data); the other one is fetched when the person switches language. Elements
// carry data-i18n="key" (and data-i18n-params='{"n":2}') so a switch re-renders them.

const pageEl = document.getElementById('page-data');
export const pageData = pageEl ? JSON.parse(pageEl.textContent) : { lang: 'zh-CN', catalogue: {}, config: {} };

const LANG_COOKIE = 'certify_lang';
const LANG_KEY = 'certify.lang';
let lang = pageData.lang;
let messages = pageData.catalogue;
const loaded = { [lang]: messages };
const listeners = new Set();

export function currentLang() { return lang; }

export function has(key) { return Object.prototype.hasOwnProperty.call(messages, key); }

export function t(key, params) {
  let text = has(key) ? messages[key] : key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** Put a translated text in an element and remember how, for a language switch. */
export function setText(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nParams = JSON.stringify(params); else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
  return el;
}

export function applyAll(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => {
    const params = el.dataset.i18nParams ? JSON.parse(el.dataset.i18nParams) : undefined;
    el.textContent = t(el.dataset.i18n, params);
  });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll('[data-i18n-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nLabel)); });
  root.querySelectorAll('[data-i18n-alt]').forEach((el) => { el.alt = t(el.dataset.i18nAlt); });
  // a page whose <title> names its own key keeps it; the others are titled after the app
  if (!document.querySelector('title[data-i18n]')) document.title = t('app.title');
}

export function onLanguageChange(fn) { listeners.add(fn); }

export async function switchLanguage(next) {
  if (next === lang) return;
  if (!loaded[next]) {
    const response = await fetch(`/i18n/${encodeURIComponent(next)}.json`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`no catalogue for ${next}`);
    loaded[next] = await response.json();
  }
  const previous = lang;
  lang = next;
  messages = loaded[next];
  document.documentElement.lang = next;
  document.cookie = `${LANG_COOKIE}=${encodeURIComponent(next)}; Max-Age=31536000; Path=/; SameSite=Lax`;
  try { localStorage.setItem(LANG_KEY, next); } catch (e) { /* storage may be off */ }
  document.querySelectorAll('[data-lang-switch]').forEach((a) => {
    a.dataset.langSwitch = previous;
    a.setAttribute('lang', previous);
    a.href = `?lang=${previous}`;
  });
  document.querySelectorAll('select[data-lang-select]').forEach((select) => { select.value = next; });
  applyAll();
  listeners.forEach((fn) => fn(next));
}

/** The header's language link (or a <select data-lang-select> of the languages) switches
 * in place (the camera keeps running). */
export function initLanguageSwitch() {
  document.querySelectorAll('[data-lang-switch]').forEach((a) => {
    a.addEventListener('click', (event) => {
      event.preventDefault();
      switchLanguage(a.dataset.langSwitch).catch(() => { window.location.href = a.href; });
    });
  });
  document.querySelectorAll('select[data-lang-select]').forEach((select) => {
    select.value = lang;
    select.addEventListener('change', () => {
      const next = select.value;
      switchLanguage(next).catch(() => { window.location.href = `?lang=${encodeURIComponent(next)}`; });
    });
  });
  // a choice made on another page of this site (stored in the browser) wins over the default
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && stored !== lang && !document.cookie.includes(`${LANG_COOKIE}=`)) switchLanguage(stored);
  } catch (e) { /* storage may be off */ }
}

function parseDate(value) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split('-').map(Number);
    return new Date(y, m - 1, d);
  }
  return new Date(value);
}

export function formatDate(value) {
  return new Intl.DateTimeFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric' })
    .format(parseDate(value));
}

export function formatDateTime(value) {
  return new Intl.DateTimeFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(parseDate(value));
}
