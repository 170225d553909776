// One pensioner's case: state, what to do, the assisted check, a reference photo, a
// phone link, and the history of attempts (who assisted, on which device).
import { errorKey } from '../api.js';
import { formatDate, formatDateTime, onLanguageChange, pageData, setText, t } from '../i18n.js';
import { el, initStaff, staffApi, tEl } from '../staff.js';

const $ = (id) => document.getElementById(id);
const id = pageData.pensioner_id;
let detail = null;

function attemptRow(a) {
  const li = el('li');
  const line = el('div', 'line');
  line.append(
    tEl('span', `badge ${a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'processing'}`, `attempt.status.${a.status}`),
    el('span', 'meta', formatDateTime(a.created_at)),
    tEl('span', 'meta', `attempt.channel.${a.channel}`),
  );
  if (a.assisted_by_name) line.append(tEl('span', 'meta', 'result.assisted_by', { name: a.assisted_by_name }));
  if (a.device_id) line.append(tEl('span', 'meta', 'attempt.device', { device: a.device_id.slice(0, 8) }));
  if (a.uploaded_late) line.append(tEl('span', 'meta', 'attempt.late'));
  li.append(line);
  for (const code of a.reasons) {
    const p = el('p', 'small');
    p.append(tEl('strong', '', `reason.${code}.title`), ' — ', tEl('span', '', `reason.${code}.advice`));
    li.append(p);
  }
  return li;
}

function referenceRow(r) {
  const li = el('li');
  const line = el('div', 'line');
  line.append(
    tEl('span', `badge ${r.status === 'active' ? 'certified' : r.status === 'pending' ? 'due' : 'failed'}`, `reference.status.${r.status}`),
    tEl('span', '', `reference.source.${r.source}`),
    el('span', 'meta', formatDateTime(r.created_at)),
  );
  if (r.created_by_name) line.append(tEl('span', 'meta', 'staff.case.by', { name: r.created_by_name }));
  if (r.decided_by_name) line.append(tEl('span', 'meta', 'staff.case.decided_by', { name: r.decided_by_name }));
  li.append(line);
  return li;
}

function render() {
  const c = detail.case;
  $('case-name').textContent = c.name;
  const meta = $('case-meta');
  meta.replaceChildren(
    tEl('span', '', 'staff.case.id', { id: c.national_id_masked }), ' · ',
    tEl('span', '', 'staff.cases.age', { age: c.age }), ' · ',
    tEl('span', '', 'staff.case.region', { region: c.region_code }),
  );
  if (c.residence_region_code) meta.append(' · ', tEl('span', '', 'staff.cases.residence', { region: c.residence_region_code }));
  const badge = setText($('case-state'), `state.${c.state}`);
  badge.className = `badge ${c.state}`;
  const help = $('case-help');
  help.replaceChildren(tEl('span', '', `state.help.${c.state}`));
  if (c.state === 'certified' && c.valid_until) help.append(' ', tEl('span', '', 'staff.cases.valid_until', { date: formatDate(c.valid_until) }));
  else help.append(' ', tEl('span', '', 'staff.cases.tries_left', { n: c.tries_left }));
  $('assist').href = `/staff/cases/${id}/assist`;
  $('assist').hidden = ['certified', 'processing', 'on_hold', 'closed'].includes(c.state);
  $('photo').href = `/staff/cases/${id}/photo`;
  $('attempts').replaceChildren(...detail.attempts.map(attemptRow));
  $('no-attempts').hidden = detail.attempts.length > 0;
  $('references').replaceChildren(...detail.references.map(referenceRow));
  $('case').hidden = false;
}

async function load() {
  try {
    detail = await staffApi('GET', `/v1/cases/${id}`);
    render();
  } catch (error) {
    setText($('case-error'), errorKey(error));
    $('case-error').hidden = false;
  }
}

$('make-link').addEventListener('click', async () => {
  $('make-link').disabled = true;
  try {
    const link = await staffApi('POST', `/v1/pensioners/${id}/links`, { json: {} });
    const url = link.url.startsWith('/') ? `${window.location.origin}${link.url}` : link.url;
    setText($('link-text'), 'staff.case.link_made', { date: formatDate(link.expires_at) });
    $('link-url').textContent = url;
    $('link-box').hidden = false;
  } catch (error) {
    setText($('case-error'), errorKey(error));
    $('case-error').hidden = false;
  } finally {
    $('make-link').disabled = false;
  }
});

$('copy-link').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('link-url').textContent);
    setText($('copy-link'), 'staff.case.copied');
  } catch (e) { /* clipboard not allowed: the link is shown to copy by hand */ }
});

onLanguageChange(() => { if (detail) render(); });
initStaff().then(load).catch(() => {});
