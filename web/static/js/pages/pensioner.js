// The pensioner's page, opened from the one-time link in an SMS or letter:
//   open the link (the first browser gets a page pass) -> what will happen + consent
//   -> capture flow -> result. A recording left in the outbox by an earlier visit is
//   sent first.
import { ApiError, api, deviceId, errorKey } from '../api.js';
import { CaptureFlow } from '../capture.js';
import { formatDate, initLanguageSwitch, pageData, setText } from '../i18n.js';
import { listItems, removeItem } from '../outbox.js';
import { currentPass, rememberCurrentPass } from '../pass.js';
import { showResult } from '../result.js';
import { keepStickyBarsShort, linkOrButton, showScreen } from '../screens.js';
import { sha256Hex } from '../uploader.js';

const $ = (id) => document.getElementById(id);
const config = pageData.config;
const PASSES_KEY = 'certify.passes';
let pagePass = null;
let view = null;
let flow = null;

initLanguageSwitch();
keepStickyBarsShort();

function readToken() {
  const fromHash = decodeURIComponent(window.location.hash.replace(/^#(t=)?/, ''));
  if (fromHash) return fromHash;
  const match = window.location.pathname.match(/^\/l\/([^/]+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

function storedPasses() {
  try { return JSON.parse(localStorage.getItem(PASSES_KEY) || '{}'); } catch (e) { return {}; }
}

function remember(tokenKey, pass) {
  try {
    const passes = storedPasses();
    passes[tokenKey] = pass;
    localStorage.setItem(PASSES_KEY, JSON.stringify(passes));
  } catch (e) { /* storage may be off: the pass lives for this page only */ }
  rememberCurrentPass(pass);
}

function passHeaders() { return { 'X-Link-Pass': pagePass }; }

function message({ icon = 'info', title, text, textParams, main, help = true }) {
  const img = $('message-icon');
  img.src = img.src.replace(/icons\/[a-z_]+\.svg(\?.*)?$/, `icons/${icon}.svg`);
  setText($('message-title'), title);
  if (text) setText($('message-text'), text, textParams); else $('message-text').textContent = '';
  if (help && config.help_phone) setText($('message-help'), 'common.help', { phone: config.help_phone });
  else $('message-help').textContent = '';
  const button = $('message-main');
  button.hidden = !main;
  if (main) {
    setText(button, main.key, main.params);
    linkOrButton(button, main.href || (() => main.onClick()));
  }
  showScreen('screen-message');
}

function showError(error) {
  if (error instanceof ApiError && error.code === 'attempts_exhausted') { showLocked(); return; }
  if (error instanceof ApiError && error.code === 'already_certified') {
    message({ icon: 'ok', title: 'done.title', text: 'error.already_certified', help: false });
    return;
  }
  const linkProblem = error instanceof ApiError && error.code.startsWith('link_');
  message({
    icon: 'fail',
    title: linkProblem ? 'link.problem.title' : 'common.error_title',
    text: errorKey(error),
    main: linkProblem ? null : { key: 'common.retry', onClick: () => refreshAndRoute() },
  });
}

function showLocked() {
  message({
    icon: 'help', title: 'locked.title', text: 'locked.text', help: false,
    main: config.help_phone ? { key: 'common.call', params: { phone: config.help_phone }, href: `tel:${config.help_phone}` } : null,
  });
}

function showWelcome() {
  setText($('welcome-hello'), 'welcome.hello', { name: view.name_masked });
  showScreen('screen-welcome');
}

async function refreshAndRoute() {
  try {
    view = await api('GET', '/v1/links/current', { headers: passHeaders() });
  } catch (error) {
    showError(error);
    return;
  }
  await route();
}

function resultOptions() {
  return {
    helpPhone: config.help_phone,
    headers: passHeaders(),
    onRetry: () => startCapture(),
    finish: () => refreshAndRoute(),
  };
}

async function showAttempt(attemptId) {
  showScreen('screen-result');
  await showResult(attemptId, resultOptions());
}

async function route() {
  const pending = await listItems(`link:${view.link_id}`);
  if (pending.length) {
    const item = pending[0];
    if (new Date(item.session.upload_deadline) < new Date()) {
      await removeItem(item.id);
      message({ icon: 'info', title: 'pending.title', text: 'pending.expired', main: { key: 'common.retry', onClick: () => route() } });
      return;
    }
    flow.upload(item);
    return;
  }
  const latest = view.latest_attempt;
  if (view.record_status === 'certified' || view.record_status === 'restored') {
    message({ icon: 'ok', title: 'done.title', text: 'done.text', textParams: { date: view.valid_until ? formatDate(view.valid_until) : '' }, help: false });
    return;
  }
  if (latest && ['queued', 'processing', 'review'].includes(latest.status)) {
    await showAttempt(latest.id);
    return;
  }
  if (view.tries_left <= 0) { showLocked(); return; }
  showWelcome();
}

async function startCapture() {
  flow.start();
}

function setUpFlow() {
  flow = new CaptureFlow({
    owner: null, // set once the link is known
    withAudio: Boolean(config.with_digits),
    showScreen,
    openSession: () => api('POST', '/v1/links/current/sessions', { headers: passHeaders(), json: { device_id: deviceId() } }),
    onAttempt: (attempt) => showAttempt(attempt.id),
    onFatal: (error) => showError(error),
  });
}

$('agree').addEventListener('click', async () => {
  $('agree').disabled = true;
  try {
    view = await api('POST', '/v1/links/current/consent', {
      headers: passHeaders(), json: { version: view.consent_version, agree: true },
    });
    startCapture();
  } catch (error) {
    showError(error);
  } finally {
    $('agree').disabled = false;
  }
});

$('decline').addEventListener('click', () => {
  message({ icon: 'info', title: 'declined.title', text: 'declined.text', main: { key: 'declined.again', onClick: showWelcome } });
});

async function init() {
  setUpFlow();
  const token = readToken();
  if (token) window.history.replaceState(null, '', '/l'); // keep the token out of history and screenshots
  try {
    if (token) {
      const tokenKey = (await sha256Hex(new Blob([token]))) || token;
      const opened = await api('POST', '/v1/links/redeem', {
        json: { token, page_pass: storedPasses()[tokenKey] || null, device_id: deviceId() },
      });
      pagePass = opened.page_pass;
      remember(tokenKey, pagePass);
      view = opened.link;
    } else {
      pagePass = currentPass();
      if (!pagePass) {
        message({ icon: 'info', title: 'link.missing.title', text: 'link.missing.text' });
        return;
      }
      view = await api('GET', '/v1/links/current', { headers: passHeaders() });
    }
  } catch (error) {
    showError(error);
    return;
  }
  flow.owner = `link:${view.link_id}`;
  await route();
}

init();
