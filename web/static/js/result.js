// The result of an attempt: polls it until it is decided, then says what it means and
// what to do: "认证成功，有效期至 ...", or each reason in plain words with its remedy,
// tries left, and after the last try how to get help from community staff.
import { ApiError, api, errorKey, isTransient } from './api.js';
import { formatDate, has, setText, t } from './i18n.js';
import { linkOrButton } from './screens.js';

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const POLL_MS = 1500;
export const MAX_POLL_MS = 5000;
export const SLOW_AFTER_MS = 45_000;
const FINAL = new Set(['passed', 'failed', 'review', 'error']);

function icon(name) {
  const img = $('result-icon');
  img.src = img.src.replace(/icons\/[a-z_]+\.svg(\?.*)?$/, `icons/${name}.svg`);
}

function button(el, key, params, action) {
  setText(el, key, params);
  el.hidden = false;
  linkOrButton(el, action);
}

function reset() {
  ['result-reasons', 'result-tries', 'result-extra', 'result-certificates', 'result-main', 'result-second'].forEach((id) => { $(id).hidden = true; });
  $('result-spinner').hidden = true;
  $('screen-result').className = 'screen result';
}

/**
 * Show (and keep polling) one attempt. options:
 *   onRetry  function or URL for "try again"
 *   finish   function or URL for "done" / "back to the case"
 *   finishKey the catalogue key of that button (default result.finish)
 *   helpPhone the number to call when no tries are left
 *   headers  sent with every call about the attempt (the pensioner's X-Link-Pass: the
 *            attempt id alone shows only its status and reasons)
 */
export async function showResult(attemptId, options) {
  const started = Date.now();
  let wait = POLL_MS;
  reset();
  icon('wait');
  setText($('result-title'), 'result.checking.title');
  setText($('result-lead'), 'result.checking.text');
  $('result-spinner').hidden = false;
  for (;;) {
    let attempt = null;
    try {
      attempt = await api('GET', `/v1/attempts/${attemptId}`, { headers: options.headers });
    } catch (error) {
      if (!isTransient(error)) { render({ status: 'error', reasons: [] }, options); return null; }
    }
    if (attempt && FINAL.has(attempt.status)) { render(attempt, options); return attempt; }
    if (Date.now() - started > SLOW_AFTER_MS) { setText($('result-extra'), 'result.slow'); $('result-extra').hidden = false; }
    await sleep(wait);
    wait = Math.min(MAX_POLL_MS, wait + 500);
  }
}

/** One signed certificate: the benefit it is for, its QR code (which anyone can check
 * against the agency's public key), its number, validity and issuer. */
function certificateCard(certificate) {
  const card = document.createElement('figure');
  card.className = 'certificate';
  card.dataset.certificate = certificate.id;
  const p = certificate.payload || {};
  const scheme = document.createElement('h2');
  if (has(`scheme.${p.scheme}`)) setText(scheme, `scheme.${p.scheme}`); else scheme.textContent = p.scheme || '';
  card.append(scheme);
  if (certificate.revoked) {
    card.append(setText(document.createElement('p'), 'certificate.revoked'));
    return card;
  }
  const qr = document.createElement('img');
  qr.className = 'qr';
  qr.src = certificate.qr_url;
  qr.width = 220;
  qr.height = 220;
  qr.setAttribute('data-i18n-alt', 'certificate.qr_alt');
  qr.alt = t('certificate.qr_alt');
  const caption = document.createElement('figcaption');
  caption.append(
    setText(document.createElement('span'), 'certificate.number', { id: certificate.id.slice(0, 8).toUpperCase() }),
    setText(document.createElement('span'), 'certificate.valid_until', { date: formatDate(certificate.valid_until) }),
    setText(document.createElement('span'), 'certificate.issuer', { name: (p.issuer && p.issuer.name) || '' }),
    setText(document.createElement('span'), 'certificate.scan'),
  );
  card.append(qr, caption);
  return card;
}

/** The certificates a passed attempt earned, one per benefit scheme. */
async function showCertificates(attemptId, headers) {
  const box = $('result-certificates');
  let certificates = [];
  try {
    certificates = await api('GET', `/v1/attempts/${attemptId}/certificates`, { headers });
  } catch (error) {
    return; // the result stands without them; a reload asks again
  }
  if (!certificates.length) return;
  const title = setText(document.createElement('h2'), 'certificate.title');
  box.replaceChildren(title, ...certificates.map(certificateCard));
  box.hidden = false;
  $('screen-result').dataset.certificates = String(certificates.length);
}

/** After the last try: ask for a person to look at this recording (once). */
async function appeal(attemptId, headers) {
  const second = $('result-second');
  const extra = $('result-extra');
  if (second.dataset.busy) return; // one request at a time; the button stays for a retry
  second.dataset.busy = '1';
  let sent = true;
  try {
    await api('POST', `/v1/attempts/${attemptId}/appeal`, { json: {}, headers });
  } catch (error) {
    sent = error instanceof ApiError && error.code === 'appeal_exists';
    if (!sent) setText(extra, errorKey(error));
  } finally {
    delete second.dataset.busy;
  }
  if (sent) {
    setText(extra, 'result.appeal.sent');
    second.hidden = true;
    $('screen-result').dataset.appeal = 'sent';
  }
  extra.hidden = false;
}

function render(attempt, options) {
  reset();
  const screen = $('screen-result');
  const phone = options.helpPhone;
  if (attempt.status === 'passed') {
    screen.classList.add('passed');
    icon('ok');
    setText($('result-title'), 'result.passed.title');
    const until = attempt.valid_until;
    if (until) setText($('result-lead'), 'result.passed.valid_until', { date: formatDate(until) });
    else setText($('result-lead'), 'result.passed.text');
    setText($('result-extra'), 'result.passed.text');
    $('result-extra').hidden = !until;
    showCertificates(attempt.id, options.headers);
    if (options.finish) button($('result-main'), options.finishKey || 'result.finish', null, options.finish);
  } else if (attempt.status === 'review') {
    icon('review');
    setText($('result-title'), 'result.review.title');
    setText($('result-lead'), 'result.review.text');
    if (options.finish) button($('result-main'), options.finishKey || 'result.finish', null, options.finish);
  } else if (attempt.status === 'failed') {
    screen.classList.add('failed');
    icon('fail');
    setText($('result-title'), 'result.failed.title');
    setText($('result-lead'), 'result.failed.what');
    const list = $('result-reasons');
    const codes = [...new Set(attempt.reasons || [])];
    list.replaceChildren(...(codes.length ? codes : ['unknown']).map((code) => {
      const li = document.createElement('li');
      const known = has(`reason.${code}.title`);
      const strong = setText(document.createElement('strong'), known ? `reason.${code}.title` : 'result.unknown_reason');
      const span = setText(document.createElement('span'), known ? `reason.${code}.advice` : 'result.unknown_advice');
      li.append(strong, span);
      li.dataset.reason = code;
      return li;
    }));
    list.hidden = false;
    const left = attempt.tries_left;
    const tries = $('result-tries');
    if (left === 0) {
      icon('help');
      setText($('result-title'), 'result.no_tries.title');
      setText(tries, 'result.no_tries.text');
      tries.hidden = false;
      if (phone) button($('result-main'), 'common.call', { phone }, `tel:${phone}`);
      if (options.finish && options.staff) button($('result-second'), options.finishKey || 'result.finish', null, options.finish);
      else button($('result-second'), 'result.appeal.button', null, () => appeal(attempt.id, options.headers));
    } else {
      if (left !== null && left !== undefined) {
        setText(tries, left === 1 ? 'result.tries_left_one' : 'result.tries_left', { n: left });
        tries.hidden = false;
      }
      if (options.onRetry) button($('result-main'), 'common.retry', null, options.onRetry);
      if (options.finish && options.staff) button($('result-second'), options.finishKey || 'result.finish', null, options.finish);
    }
  } else {
    icon('info');
    setText($('result-title'), 'result.error.title');
    setText($('result-lead'), 'result.error.text');
    if (options.onRetry) button($('result-main'), 'common.retry', null, options.onRetry);
  }
  if (phone && attempt.status !== 'passed') {
    const extra = $('result-extra');
    if (extra.hidden) { setText(extra, 'common.help', { phone }); extra.hidden = false; }
  }
  $('screen-result').dataset.status = attempt.status;
}
