// The agency pages: review queue and results. Plain JavaScript over the JSON API, with
// the shared api.js (calls, errors) and i18n.js (the catalogue, the language switch).
import { ApiError, api, apiBlob, errorKey, errorText } from '/static/js/api.js';
import { currentLang, has, initLanguageSwitch, onLanguageChange, t } from '/static/js/i18n.js';

const KEY_STORAGE = 'certify-key';
const $ = (sel, root = document) => root.querySelector(sel);
/** A table row that opens something: by click, and by Enter or Space when it has the focus
 * (the rows are in the Tab order), so a keyboard or screen-reader user can open it too. */
function onActivate(row, action) {
  row.addEventListener('click', action);
  row.addEventListener('keydown', (event) => {
    if (event.target === row && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); action(); }
  });
}
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** An API key given on the sign-in form is sent with every call of this tab. */
function keyHeader() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

const call = (method, url, json) => api(method, url, { json, headers: keyHeader() });

/** An error as the pages show it: the catalogue's words, and the code for a support call. */
const problem = (error) => (error instanceof ApiError ? `${errorText(error)} (${error.code})` : errorText(error));

/** A code's words from the catalogue (a code it does not know is shown as it is). */
const word = (prefix, code) => (has(prefix + code) ? t(prefix + code) : String(code));

/** A reason in the words for staff (agency.reason.<code>, where the pensioner's words say less),
 * an engine reason (reason.<code>.title) or a reviewer's reason (agency.review_reason.<code>). */
const reasonText = (code) => (has(`agency.reason.${code}`) ? t(`agency.reason.${code}`)
  : has(`reason.${code}.title`) ? t(`reason.${code}.title`) : word('agency.review_reason.', code));
const reasonList = (codes) => (codes || []).map((code) => `<span title="${esc(code)}">${esc(reasonText(code))}</span>`).join(', ');

const BADGE_WORDS = { s: 'agency.status.', d: 'attempt.status.' };
const badge = (prefix, value) => (value ? `<span class="badge ${prefix}-${esc(value)}">${esc(word(BADGE_WORDS[prefix], value))}</span>` : '');
const minute = (iso) => (iso || '').slice(0, 16).replace('T', ' ');

async function whoAmI() {
  try { return await call('GET', '/v1/auth/me'); } catch (e) { return null; }
}

function setupChrome(onReady) {
  initLanguageSwitch();
  onLanguageChange(() => onReady(true));
  $('#login').addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    $('#login-error').textContent = '';
    try {
      if (data.get('key')) {
        sessionStorage.setItem(KEY_STORAGE, data.get('key'));
      } else {
        await call('POST', '/v1/auth/login', { username: data.get('username'), password: data.get('password') });
      }
      await start();
    } catch (error) {
      sessionStorage.removeItem(KEY_STORAGE);
      // any refusal reads as a wrong name or password, except being told to wait
      const refused = error instanceof ApiError && error.code !== 'login_throttled';
      $('#login-error').textContent = t(refused ? 'error.login_failed' : errorKey(error));
    }
  });
  $('#logout').addEventListener('click', async () => {
    sessionStorage.removeItem(KEY_STORAGE);
    try { await call('POST', '/v1/auth/logout'); } catch (e) { /* already out */ }
    window.location.reload();
  });
  async function start() {
    const me = await whoAmI();
    $('#login').hidden = !!me;
    $('#app').hidden = !me;
    $('#logout').hidden = !me;
    $('#who').textContent = me ? `${me.display_name || me.actor_id} · ${me.kind} · ${me.regions.join(',')}` : '';
    if (me) onReady(false);
  }
  start();
}

// ---- results page -------------------------------------------------------------------
function resultsPage() {
  let cursor = null;
  const rows = [];
  const filters = () => {
    const data = new FormData($('#filters'));
    const params = new URLSearchParams();
    for (const [k, v] of data.entries()) if (v) params.set(k, v);
    return params;
  };
  function render() {
    $('#results tbody').innerHTML = rows.length ? rows.map((r) => `<tr>
      <td>${esc(r.name)}</td><td>${esc(r.national_id_masked)}</td><td>${esc(r.external_ref || '')}</td>
      <td>${esc(r.region_code)}</td><td>${esc(word('scheme.', r.scheme))}</td><td>${esc(r.period)}</td>
      <td>${badge('s', r.status)}</td><td>${badge('d', r.decision)}</td><td>${reasonList(r.reasons)}</td>
      <td>${r.method ? esc(word('agency.method.', r.method)) : ''}</td><td>${esc(minute(r.certified_at))}</td>
      <td>${esc(r.valid_until || '')}</td><td>${esc(r.due_by || '')}</td></tr>`).join('')
      : `<tr><td colspan="13" class="muted">${esc(t('agency.none'))}</td></tr>`;
    $('#count').textContent = t('agency.results.count', { n: rows.length });
  }
  async function load(reset) {
    if (reset) { rows.length = 0; cursor = null; }
    const params = filters();
    params.set('limit', '50');
    if (cursor) params.set('since', cursor);
    $('#error').textContent = '';
    try {
      const page = await call('GET', `/v1/results?${params}`);
      rows.push(...page.results);
      cursor = page.next_cursor;
      $('#more').hidden = !page.has_more;
    } catch (error) { $('#error').textContent = problem(error); }
    render();
  }
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); load(true); });
  $('#more').addEventListener('click', () => load(false));
  $('#export').addEventListener('click', async () => {
    let file;
    try {
      file = await apiBlob('GET', `/v1/results/export.csv?${filters()}`, { headers: { Accept: 'text/csv', ...keyHeader() } });
    } catch (error) { $('#error').textContent = problem(error); return; }
    const url = URL.createObjectURL(file);
    const link = Object.assign(document.createElement('a'), { href: url, download: 'results.csv' });
    link.click(); URL.revokeObjectURL(url);
  });
  setupChrome((relabel) => (relabel ? render() : load(true)));
}

// ---- review page --------------------------------------------------------------------
function reviewsPage() {
  let items = [];
  let holds = [];
  let selected = null;
  let detail = null;
  let hold = null;
  const evidence = (url) => `${url}?reason=${encodeURIComponent('manual review')}`;
  const showError = (error) => { $('#error').textContent = problem(error); };
  function renderList() {
    $('#queue tbody').innerHTML = items.length ? items.map((r) => `<tr class="clickable ${selected === r.attempt_id ? 'selected' : ''}" tabindex="0" data-id="${esc(r.attempt_id)}">
      <td>${esc(r.name)}<br><span class="muted">${esc(r.national_id_masked)}</span></td>
      <td>${esc(r.region_code)}</td><td class="nowrap">${esc(word('agency.kind.', r.kind))}</td>
      <td>${reasonList(r.reasons)}</td><td class="nowrap">${esc(minute(r.opened_at))}</td></tr>`).join('')
      : `<tr><td colspan="5" class="muted">${esc(t('agency.none'))}</td></tr>`;
    document.querySelectorAll('#queue tr.clickable').forEach((row) => onActivate(row, () => open(row.dataset.id)));
  }
  function renderHolds() {
    $('#holds tbody').innerHTML = holds.length ? holds.map((h) => `<tr class="clickable ${selected === h.review_id ? 'selected' : ''}" tabindex="0" data-hold="${esc(h.review_id)}">
      <td>${esc(h.enrolment.name)}<br><span class="muted">${esc(h.enrolment.national_id_masked)}</span></td>
      <td>${esc(h.enrolment.region_code)}</td><td>${esc(h.other ? h.other.region_code : '–')}</td>
      <td class="nowrap">${esc(minute(h.opened_at))}</td></tr>`).join('')
      : `<tr><td colspan="4" class="muted">${esc(t('agency.none'))}</td></tr>`;
    document.querySelectorAll('#holds tr.clickable').forEach((row) => onActivate(row, () => openHold(row.dataset.hold)));
  }
  function renderHold() {
    const h = hold;
    const brief = (e, label) => (e ? `<dt>${esc(t(label))}</dt><dd>${esc(e.name)} · ${esc(e.national_id_masked)} · ${esc(e.region_code)}
      · ${esc(word('agency.enrolment.', e.enrolment_status))} · ${esc(e.created_at.slice(0, 10))}</dd>` : '');
    $('#detail').innerHTML = `<h2>${esc(word('agency.kind.', h.kind))}</h2>
      <dl class="scores">${brief(h.enrolment, 'agency.reviews.new_enrolment')}${brief(h.other, 'agency.reviews.other_enrolment')}</dl>
      ${h.state !== 'open' ? `<p>${esc(word('agency.hold.', h.decision))} · ${esc(h.decided_by || '')}${h.note ? ` · ${esc(h.note)}` : ''}</p>`
        : h.may_decide ? `<form id="hold-decision" class="filters">
        <label>${esc(t('agency.reviews.decide'))}<select name="decision"><option value="keep_new">${esc(t('agency.hold.keep_new'))}</option><option value="reject_new">${esc(t('agency.hold.reject_new'))}</option></select></label>
        <label>${esc(t('agency.reviews.note'))}<input name="note" maxlength="2000"></label>
        <button type="submit">${esc(t('agency.reviews.submit'))}</button><span id="decision-msg"></span>
      </form>` : `<p class="muted">${esc(t('agency.reviews.needs_both'))}</p>`}`;
    const form = $('#hold-decision');
    if (form) {
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          hold = await call('POST', `/v1/reviews/enrolments/${h.review_id}/decision`, { decision: data.get('decision'), note: data.get('note') || null });
          await loadList(); renderDetail();
          $('#flash').textContent = t('agency.reviews.decided_ok', { name: h.enrolment.name, id: h.enrolment.national_id_masked });
        } catch (error) { $('#decision-msg').innerHTML = `<span class="error">${esc(problem(error))}</span>`; }
      });
    }
  }
  function renderDetail() {
    const box = $('#detail');
    if (hold) { renderHold(); return; }
    if (!detail) { box.innerHTML = `<p class="muted">${esc(t('agency.reviews.pick'))}</p>`; return; }
    const d = detail;
    const scores = Object.entries(d.scores || {}).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'number' ? v.toFixed(3) : v)}</dd>`).join('');
    const reasons = (decision) => Object.keys(d.decision_reasons[decision] || {}).map((code) => `<option value="${esc(code)}">${esc(word('agency.review_reason.', code))}</option>`).join('');
    box.innerHTML = `<h2>${esc(d.name)} <span class="muted">${esc(d.national_id_masked)}</span></h2>
      <p>${badge('d', d.attempt_status)} ${esc(word('agency.kind.', d.kind))} · ${esc(d.period)} · ${reasonList(d.reasons)}</p>
      ${d.appeal_note ? `<p><strong>${esc(t('agency.reviews.appeal_note'))}:</strong> ${esc(d.appeal_note)}</p>` : ''}
      <p class="notice">${esc(t('agency.reviews.audit_notice'))}</p>
      <h3>${esc(t('agency.reviews.key_frames'))}</h3><div class="frames">${d.key_frame_urls.map((u, i) => `<figure><img alt="${i}" src="${esc(evidence(u))}"><figcaption>#${i + 1}</figcaption></figure>`).join('')}</div>
      <h3>${esc(t('agency.reviews.references'))}</h3><div class="frames">${d.reference_photo_urls.map((u) => `<figure><img alt="reference" src="${esc(evidence(u))}"></figure>`).join('')}</div>
      <h3>${esc(t('agency.reviews.scores'))}</h3><dl class="scores"><dt>${esc(t('agency.reviews.match_distance'))}</dt><dd>${d.match_distance == null ? '–' : d.match_distance.toFixed(3)}</dd>${scores}</dl>
      ${d.state === 'open' ? `<h3>${esc(t('agency.reviews.decide'))}</h3>
      <form id="decision" class="filters">
        <label>${esc(t('agency.reviews.decide'))}<select name="decision"><option value="passed">${esc(t('agency.reviews.pass'))}</option><option value="failed">${esc(t('agency.reviews.fail'))}</option></select></label>
        <label>${esc(t('agency.reviews.reason'))}<select name="reason">${reasons('passed')}</select></label>
        <label>${esc(t('agency.reviews.note'))}<input name="note" maxlength="2000"></label>
        <button type="submit">${esc(t('agency.reviews.submit'))}</button><span id="decision-msg"></span>
      </form>` : `<p>${badge('d', d.decision)} ${d.reason ? esc(reasonText(d.reason)) : ''} · ${esc(d.decided_by || '')}</p>`}`;
    const form = $('#decision');
    if (form) {
      form.decision.addEventListener('change', () => { form.reason.innerHTML = reasons(form.decision.value); });
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          await call('POST', `/v1/reviews/${d.attempt_id}/decision`, { decision: data.get('decision'), reason: data.get('reason'), note: data.get('note') || null });
          await loadList(); detail = await call('GET', `/v1/reviews/${d.attempt_id}`); renderDetail();
          $('#flash').textContent = t('agency.reviews.decided_ok', { name: d.name, id: d.national_id_masked });
        } catch (error) { $('#decision-msg').innerHTML = `<span class="error">${esc(problem(error))}</span>`; }
      });
    }
  }
  async function open(id) {
    selected = id; hold = null; renderList(); renderHolds();
    $('#flash').textContent = '';
    try { detail = await call('GET', `/v1/reviews/${id}`); } catch (error) { detail = null; showError(error); }
    renderDetail();
  }
  async function openHold(id) {
    selected = id; detail = null; renderList(); renderHolds();
    $('#flash').textContent = '';
    try { hold = await call('GET', `/v1/reviews/enrolments/${id}`); } catch (error) { hold = null; showError(error); }
    renderDetail();
  }
  async function loadList() {
    const state = $('#state').value;
    try { items = await call('GET', `/v1/reviews?state=${state}`); $('#error').textContent = ''; } catch (error) { items = []; showError(error); }
    try { holds = await call('GET', `/v1/reviews/enrolments?state=${state}`); } catch (e) { holds = []; }
    renderList(); renderHolds();
  }
  $('#state').addEventListener('change', loadList);
  setupChrome((relabel) => { if (relabel) { renderList(); renderHolds(); renderDetail(); } else { loadList(); renderDetail(); } });
}

// ---- assisted captures under watch -----------------------------------------------------
function watchPage() {
  let report = null;
  const params = () => {
    const out = new URLSearchParams();
    for (const [k, v] of new FormData($('#filters')).entries()) if (v) out.set(k, v);
    return out;
  };
  const flagList = (flags) => Object.entries(flags || {}).map(([code, n]) => `<span title="${esc(code)}">${esc(reasonText(code))} ×${n}</span>`).join('<br>');
  const percent = (share) => `${Math.round(share * 100)}%`;
  const flaggedRow = (on) => (on ? ' class="flagged"' : '');
  /** Times in the watch's time zone (the quiet hours are counted there), not UTC. */
  const localMinute = (iso, tz) => (iso ? new Date(iso).toLocaleString('sv-SE', { timeZone: tz }).slice(0, 16) : '');
  function render() {
    if (!report) return;
    const { staff, devices, attempts, thresholds: th } = report;
    $('#thresholds').textContent = t('agency.watch.thresholds', {
      hour: th.max_per_hour, day: th.max_per_day, pensioners: th.device_max_pensioners,
      share: Math.round(th.second_face_max_share * 100), same: th.same_face_min_pensioners,
      quiet_from: th.quiet_hours[0], quiet_to: th.quiet_hours[1], tz: th.timezone,
    });
    const none = (cols) => `<tr><td colspan="${cols}" class="muted">${esc(t('agency.none'))}</td></tr>`;
    $('#watch-staff tbody').innerHTML = staff.length ? staff.map((s) => `<tr${flaggedRow(s.flagged)}>
      <td>${esc(s.display_name || s.staff_id)}<br><span class="muted">${esc(s.username || '')}</span></td>
      <td>${s.attempts}</td><td>${s.per_day}</td><td>${s.busiest_hour}</td><td>${s.busiest_day}</td>
      <td>${s.pensioners}</td><td>${s.devices}</td><td>${percent(s.second_face_share)}</td><td>${s.unusual_hour}</td>
      <td>${flagList(s.flags)}</td></tr>`).join('') : none(10);
    $('#watch-devices tbody').innerHTML = devices.length ? devices.map((d) => `<tr${flaggedRow(d.flagged)}>
      <td>${esc(d.device_id)}</td><td class="muted">${esc(d.user_agent || '')}</td><td>${d.attempts}</td>
      <td>${d.busiest_hour}</td><td>${d.busiest_day}</td><td>${d.pensioners}</td><td>${d.staff}</td>
      <td>${esc(d.usual_region || '–')}</td><td>${d.far_passes}</td><td>${flagList(d.flags)}</td></tr>`).join('') : none(10);
    const names = Object.fromEntries(staff.map((s) => [s.staff_id, s.display_name || s.username || s.staff_id]));
    $('#watch-attempts tbody').innerHTML = attempts.length ? attempts.map((a) => `<tr>
      <td class="nowrap">${esc(localMinute(a.created_at, th.timezone))}</td><td>${esc(a.national_id_masked)}</td><td>${esc(a.region_code)}</td>
      <td>${esc(a.home_region)}</td><td>${esc(names[a.staff_id] || a.staff_id || '')}</td><td>${esc(a.device_id || '')}</td>
      <td>${badge('d', a.status)}</td><td>${reasonList(a.flags)}</td></tr>`).join('') : none(8);
  }
  async function load() {
    $('#error').textContent = '';
    const query = params();
    try {
      const [staff, devices, attempts] = await Promise.all(['staff', 'devices', 'attempts'].map((what) => call('GET', `/v1/watch/${what}?${query}`)));
      report = { staff: staff.staff, devices: devices.devices, attempts: attempts.attempts, thresholds: staff.thresholds };
    } catch (error) { report = null; $('#error').textContent = problem(error); }
    render();
  }
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  setupChrome((relabel) => (relabel ? render() : load()));
}

// ---- statistics: dashboard and fairness ----------------------------------------------
const pct = (v) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`);
const num = (v) => (v == null ? '–' : Number(v).toLocaleString());
const band = (code) => word('stats.band.', code);
/** A table from a header (catalogue keys) and rows of cells; `num: true` cells align right. */
function table(el, head, rows, rowClass) {
  $(el).innerHTML = `<thead><tr>${head.map((h) => `<th class="${h.num ? 'num' : ''}">${esc(h.text)}</th>`).join('')}</tr></thead>
    <tbody>${rows.length ? rows.map((r, i) => `<tr class="${rowClass ? rowClass(i) : ''}">${r.map((c, j) => `<td class="${head[j].num ? 'num' : ''}">${c}</td>`).join('')}</tr>`).join('')
      : `<tr><td colspan="${head.length}" class="muted">${esc(t('agency.none'))}</td></tr>`}</tbody>`;
  // a table wider than a phone scrolls in its box: the box must take the keyboard focus
  // (arrow keys scroll it) and say which table it holds
  const wrap = $(el).closest('.table-wrap');
  if (wrap) {
    const heading = wrap.closest('section')?.querySelector('h3')?.textContent || '';
    wrap.tabIndex = 0;
    wrap.setAttribute('role', 'region');
    wrap.setAttribute('aria-label', [heading, head[0]?.text].filter(Boolean).join(' · '));
  }
}
const H = (key, isNum) => ({ text: t(key), num: !!isNum });
const codeCell = (text, code) => `${esc(text)} <code class="code">${esc(code)}</code>`;

function statsPage(kind) {
  const urls = [];
  const params = () => {
    const data = new FormData($('#stats-filters'));
    const q = new URLSearchParams();
    for (const k of ['period', 'region']) if (data.get(k)) q.set(k, data.get(k));
    return q;
  };
  async function loadCharts(names) {
    urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
    for (const name of names) {
      const fig = document.querySelector(`figure[data-chart="${name}"]`);
      if (!fig) continue;
      const q = params(); q.set('lang', currentLang());
      try {
        const blob = await apiBlob('GET', `/v1/stats/charts/${name}.svg?${q}`, { headers: { Accept: 'image/svg+xml', ...keyHeader() } });
        const url = URL.createObjectURL(blob); urls.push(url);
        fig.innerHTML = `<img alt="${esc(t('stats.chart_alt', { title: fig.dataset.title || name }))}" src="${url}">`;
      } catch (error) { fig.innerHTML = `<p class="error">${esc(problem(error))}</p>`; }
    }
  }
  const refreshed = (at) => { $('#refreshed').textContent = at ? t('stats.refreshed', { at: at.slice(0, 16).replace('T', ' ') }) : ''; };
  let figures = null;
  function renderDashboard() {
    const d = figures; const c = d.coverage; const f = d.funnel; const r = d.reviews;
    refreshed(d.refreshed_at);
    const statusHead = c.statuses.map((s) => ({ text: word('agency.status.', s), num: true }));
    const covRow = (name, row) => [name, ...c.statuses.map((s) => num(row.counts[s])), pct(row.certified_rate)];
    table('#t-coverage', [H('agency.col.region'), ...statusHead, H('stats.col.certified_rate', true)],
      [...c.by_region.map((row) => covRow(esc(row.region_code), row)), covRow(`<strong>${esc(t('stats.total'))}</strong>`, c.totals)]);
    table('#t-schemes', [H('agency.col.scheme'), ...statusHead, H('stats.col.certified_rate', true)],
      c.by_scheme.map((row) => covRow(codeCell(word('scheme.', row.scheme), row.scheme), row)));
    table('#t-trend', [H('stats.col.week'), H('stats.col.certified', true), H('stats.col.cumulative', true)],
      c.trend.map((w) => [esc(w.week), num(w.certified), num(w.cumulative)]));
    $('#first-try').textContent = t('stats.funnel.first_try', { rate: pct(f.first_try.pass_rate), n: num(f.first_try.pensioners) });
    table('#t-outcomes', [H('stats.col.outcome'), H('stats.col.attempts', true)],
      Object.entries(f.outcomes).map(([k, v]) => [codeCell(word('attempt.status.', k), k), num(v)]));
    table('#t-reasons', [H('stats.col.reason'), H('stats.col.outcome'), H('stats.col.attempts', true)],
      f.reasons.map((x) => [codeCell(reasonText(x.reason), x.reason), esc(word('attempt.status.', x.status)), num(x.attempts)]));
    table('#t-tries', [H('stats.col.tries', true), H('stats.col.pensioners', true)], f.tries_used.map((x) => [num(x.tries), num(x.pensioners)]));
    table('#t-queue', [H('stats.col.open', true), H('stats.col.age_p50_h', true), H('stats.col.age_p95_h', true)],
      [[num(r.open), num(r.age_p50_h), num(r.age_p95_h)]]);
    table('#t-reviewers', [H('stats.col.reviewer'), H('stats.col.decisions'), H('stats.col.total', true)],
      r.by_reviewer.map((x) => [esc(x.reviewer), Object.entries(x.decisions).map(([k, v]) => `${esc(word('attempt.status.', k))} ${num(v)}`).join(', '), num(x.total)]));
    table('#t-channels', [H('stats.col.method'), H('stats.col.records', true)],
      c.channels.map((x) => [codeCell(word('agency.method.', x.method), x.method), num(x.records)]));
  }
  function renderFairness() {
    const d = figures;
    refreshed(d.refreshed_at);
    $('#rule').textContent = t('stats.fairness.rule', { rate: pct(d.overall.pass_rate), margin: pct(d.margin), n: d.min_attempts });
    const flagged = d.dimensions.flatMap((dim) => dim.bands.filter((b) => b.flagged).map((b) => `${t(`stats.dimension.${dim.dimension}`)} ${band(b.band)} (${pct(b.pass_rate)})`));
    $('#flags').textContent = flagged.length ? t('stats.fairness.flags', { list: flagged.join('; ') }) : t('stats.fairness.none_flagged');
    $('#dimensions').innerHTML = d.dimensions.map((dim) => `<section><h3>${esc(t(`stats.dimension.${dim.dimension}`))}</h3>
      <div class="chart-row"><figure data-chart="fairness-${esc(dim.dimension)}"></figure><div class="table-wrap"><table id="t-${esc(dim.dimension)}"></table></div></div></section>`).join('');
    for (const dim of d.dimensions) {
      table(`#t-${dim.dimension}`, [H(`stats.dimension.${dim.dimension}`), H('stats.col.attempts', true), H('stats.col.pass_rate', true),
        H('stats.col.review_rate', true), H('stats.col.false_rejects', true), H('stats.col.false_reject_reasons'), H('stats.col.tries_to_pass', true), H('stats.col.thresholds')],
      dim.bands.map((b) => [`${b.flagged ? `<span class="flag" title="${esc(t('stats.flagged'))}">⚑ ${esc(t('stats.flagged'))}</span> ` : ''}${codeCell(band(b.band), b.band)}`,
        num(b.attempts), pct(b.pass_rate), pct(b.review_rate), num(b.false_rejects),
        b.false_reject_reasons.map((x) => `${esc(reasonText(x.reason))} ${num(x.attempts)}`).join(', '),
        b.tries_to_pass == null ? '–' : b.tries_to_pass.toFixed(2),
        b.by_thresholds.map((v) => `${esc(v.thresholds_version)}: ${pct(v.pass_rate)}`).join('<br>')]),
      (i) => (dim.bands[i].flagged ? 'flagged' : ''));
    }
  }
  const render = () => { if (figures) (kind === 'dashboard' ? renderDashboard : renderFairness)(); };
  const chartNames = () => (kind === 'dashboard' ? ['coverage', 'schemes', 'trend', 'outcomes', 'reasons', 'tries', 'channels']
    : (figures ? figures.dimensions.map((d) => `fairness-${d.dimension}`) : []));
  async function load() {
    $('#error').textContent = '';
    try { figures = await call('GET', `/v1/stats/${kind}?${params()}`); } catch (error) { figures = null; $('#error').textContent = problem(error); return; }
    render();
    await loadCharts(chartNames());
  }
  $('#stats-filters').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  $('#report').addEventListener('click', async () => {
    const q = params(); q.delete('period'); q.set('lang', currentLang());
    const month = new FormData($('#stats-filters')).get('month');
    if (month) q.set('month', month);
    let file;
    try { file = await apiBlob('GET', `/v1/stats/report.pdf?${q}`, { headers: { Accept: 'application/pdf', ...keyHeader() } }); } catch (error) { $('#error').textContent = problem(error); return; }
    const url = URL.createObjectURL(file);
    const link = Object.assign(document.createElement('a'), { href: url, download: `report-${q.get('region') || 'all'}-${month || ''}.pdf` });
    link.click(); URL.revokeObjectURL(url);
  });
  setupChrome((relabel) => { if (relabel) { render(); loadCharts(chartNames()); } else load(); });
}

// The page says which it is (<body data-page>): the pages run no inline script (strict CSP).
const startPage = {
  results: resultsPage, reviews: reviewsPage, watch: watchPage, dashboard: () => statsPage('dashboard'), fairness: () => statsPage('fairness'),
}[document.body.dataset.page];
if (startPage) startPage();
