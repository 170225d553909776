// The caseload: tabs per state (with counts) for the staff member's region, a name
// search, and one page of cases at a time.
import { errorKey } from '../api.js';
import { formatDate, formatDateTime, onLanguageChange, setText, t } from '../i18n.js';
import { el, initStaff, staffApi, tEl } from '../staff.js';

const $ = (id) => document.getElementById(id);
const STATES = ['overdue', 'locked', 'failed', 'due', 'processing', 'review', 'on_hold', 'certified'];
const PAGE = 50;
const params = new URLSearchParams(window.location.search);
let state = STATES.includes(params.get('state')) ? params.get('state') : null;
let query = params.get('q') || '';
let offset = 0;
let counts = null;

function detail(item) {
  if (item.state === 'certified' && item.valid_until) return ['staff.cases.valid_until', { date: formatDate(item.valid_until) }];
  if (item.state === 'overdue' && item.previous_valid_until) return ['staff.cases.lapsed', { date: formatDate(item.previous_valid_until) }];
  if (item.last_attempt_status) {
    return ['staff.cases.last_attempt', { status: t(`attempt.status.${item.last_attempt_status}`), time: formatDateTime(item.last_attempt_at) }];
  }
  return null;
}

function row(item) {
  const li = el('li');
  const a = el('a');
  a.href = `/staff/cases/${item.pensioner_id}`;
  a.dataset.pensioner = item.pensioner_id;
  a.append(el('span', 'name', item.name), tEl('span', `badge ${item.state}`, `state.${item.state}`));
  const meta = el('span', 'meta');
  meta.append(`${item.national_id_masked} · `, tEl('span', '', 'staff.cases.age', { age: item.age }));
  if (item.residence_region_code) meta.append(' · ', tEl('span', '', 'staff.cases.residence', { region: item.residence_region_code }));
  const extra = el('span', 'meta');
  const info = detail(item);
  if (info) extra.append(tEl('span', '', info[0], info[1]));
  if (['failed', 'locked', 'due', 'overdue'].includes(item.state)) {
    extra.append(info ? ' · ' : '', tEl('span', '', 'staff.cases.tries_left', { n: item.tries_left }));
  }
  a.append(meta, extra);
  li.append(a);
  return li;
}

function renderTabs() {
  const tabs = $('tabs');
  tabs.replaceChildren(...STATES.map((name) => {
    const tab = el('button', 'tab');
    tab.type = 'button';
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-selected', String(name === state));
    tab.dataset.state = name;
    tab.append(tEl('span', '', `state.${name}`), el('span', 'count', String(counts ? counts[name] : '')));
    tab.addEventListener('click', () => { state = name; offset = 0; load(false); });
    return tab;
  }));
  setText($('state-help'), `state.help.${state}`);
}

async function load(append) {
  $('cases-error').hidden = true;
  const search = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (state) search.set('state', state);
  if (query) search.set('q', query);
  let page;
  try {
    page = await staffApi('GET', `/v1/cases?${search}`);
  } catch (error) {
    setText($('cases-error'), errorKey(error));
    $('cases-error').hidden = false;
    return;
  }
  counts = page.counts;
  if (!state) {
    // first visit: the most urgent state that has anyone in it
    state = STATES.find((name) => counts[name] > 0) || 'due';
    await load(false);
    return;
  }
  setText($('period'), 'staff.cases.period', { period: page.period });
  renderTabs();
  const list = $('cases');
  const rows = page.items.map(row);
  if (append) list.append(...rows); else list.replaceChildren(...rows);
  $('cases-empty').hidden = page.total > 0;
  $('more').hidden = offset + page.items.length >= page.total;
  const url = new URL(window.location.href);
  url.searchParams.set('state', state);
  if (query) url.searchParams.set('q', query); else url.searchParams.delete('q');
  window.history.replaceState(null, '', url);
}

$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  query = $('q').value.trim();
  offset = 0;
  load(false);
});
$('q').value = query;
$('more').addEventListener('click', () => { offset += PAGE; load(true); });
onLanguageChange(() => { offset = 0; load(false); });

initStaff().then(() => load(false)).catch(() => {});
