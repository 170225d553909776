// The agency pages: review queue and results. Plain JavaScript over the JSON API.
"use strict";

const TEXT = {
  "zh-CN": {
    title_results: "认证结果", title_reviews: "人工复核", brand: "养老金资格认证 · 经办机构",
    nav_results: "认证结果", nav_reviews: "人工复核", language: "语言",
    login_title: "请登录", username: "用户名", password: "密码", api_key: "或使用 API 密钥", sign_in: "登录",
    use_key: "使用密钥", sign_out: "退出", login_failed: "用户名或密码错误",
    period: "年度/周期", status: "状态", region: "地区代码", scheme: "险种", any: "全部", search: "查询",
    export_csv: "导出 CSV", more: "加载更多", none: "没有记录",
    col_name: "姓名", col_id: "身份证号", col_ref: "参保编号", col_region: "参保地", col_scheme: "险种",
    col_period: "周期", col_status: "状态", col_decision: "最近结果", col_reasons: "原因", col_method: "认证方式",
    col_certified: "认证时间", col_valid: "有效期至", col_due: "截止日期",
    st_due: "待认证", st_certified: "已认证", st_overdue: "逾期未认证", st_suspended: "已暂停发放", st_restored: "已恢复发放",
    d_passed: "通过", d_failed: "未通过", d_review: "待复核",
    m_self: "本人自助", m_assisted: "工作人员协助", m_review: "人工复核", m_in_person: "现场认证", m_data_match: "大数据比对",
    sc_basic_pension: "基本养老金", sc_survivors: "供养亲属", sc_work_injury: "工伤待遇",
    queue: "待复核队列", decided: "已复核", k_engine: "系统转人工", k_appeal: "本人申诉",
    opened: "提交时间", pick: "请选择左侧的一条记录", key_frames: "关键帧", references: "登记照片",
    scores: "评分", match_distance: "人脸距离", decide: "复核结论", pass: "确认本人（通过）", fail: "不通过",
    reason: "理由", note: "备注", submit: "提交", decided_ok: "已提交复核结论", appeal_note: "申诉说明",
    audit_notice: "查看生物特征证据会记入审计日志（理由：人工复核）。", rows_shown: "条",
    r_same_person_live: "本人、活体", r_different_person: "非本人", r_not_live: "非活体（照片/屏幕/面具）",
    r_challenge_not_done: "未完成指定动作", r_unusable_video: "视频无法判断",
    holds: "登记待核查", k_duplicate_enrolment: "身份证号已在其他地区登记", new_enrolment: "新登记（待核查）",
    other_enrolment: "已有登记", keep_new: "保留新登记（本人已迁居，关闭原登记）", reject_new: "不予登记（关闭新登记）",
    needs_both: "需要能查看两个地区的审核人员处理。", es_active: "有效", es_on_hold: "待核查", es_closed: "已关闭",
  },
  en: {
    title_results: "Certification results", title_reviews: "Manual review", brand: "Pension certification · Agency",
    nav_results: "Results", nav_reviews: "Review queue", language: "Language",
    login_title: "Please sign in", username: "Username", password: "Password", api_key: "or use an API key", sign_in: "Sign in",
    use_key: "Use key", sign_out: "Sign out", login_failed: "Wrong username or password",
    period: "Period", status: "Status", region: "Region code", scheme: "Scheme", any: "Any", search: "Search",
    export_csv: "Export CSV", more: "Load more", none: "No records",
    col_name: "Name", col_id: "National ID", col_ref: "Agency ref.", col_region: "Region", col_scheme: "Scheme",
    col_period: "Period", col_status: "Status", col_decision: "Latest decision", col_reasons: "Reasons", col_method: "Method",
    col_certified: "Certified at", col_valid: "Valid until", col_due: "Due by",
    st_due: "Due", st_certified: "Certified", st_overdue: "Overdue", st_suspended: "Suspended", st_restored: "Restored",
    d_passed: "Passed", d_failed: "Failed", d_review: "Review",
    m_self: "Self", m_assisted: "Assisted by staff", m_review: "Manual review", m_in_person: "In person", m_data_match: "Data matching",
    sc_basic_pension: "Basic pension", sc_survivors: "Survivors' benefits", sc_work_injury: "Work injury",
    queue: "Open reviews", decided: "Decided", k_engine: "Sent by the system", k_appeal: "Appeal",
    opened: "Opened", pick: "Pick an item on the left", key_frames: "Key frames", references: "Reference photos",
    scores: "Scores", match_distance: "Face distance", decide: "Decision", pass: "Same person, live (pass)", fail: "Fail",
    reason: "Reason", note: "Note", submit: "Submit", decided_ok: "Decision recorded", appeal_note: "Appeal note",
    audit_notice: "Viewing biometric evidence is written to the audit log (reason: manual review).", rows_shown: "rows",
    r_same_person_live: "Same person, live", r_different_person: "Different person", r_not_live: "Not live (photo/screen/mask)",
    r_challenge_not_done: "Challenge not performed", r_unusable_video: "Video unusable",
    holds: "Enrolments on hold", k_duplicate_enrolment: "National ID enrolled in another region", new_enrolment: "New enrolment (on hold)",
    other_enrolment: "Earlier enrolment", keep_new: "Keep the new one (the person moved; close the earlier one)", reject_new: "Reject (close the new one)",
    needs_both: "A reviewer who sees both regions decides this.", es_active: "Active", es_on_hold: "On hold", es_closed: "Closed",
  },
};

const lang = () => localStorage.getItem("certify-lang") || "zh-CN";
const t = (key) => (TEXT[lang()] || TEXT["zh-CN"])[key] || key;
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function translatePage() {
  document.documentElement.lang = lang();
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-t-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.tPlaceholder); });
  const picker = $("#lang");
  if (picker) picker.value = lang();
}

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const key = sessionStorage.getItem("certify-key");
  if (key) headers.Authorization = "Bearer " + key;
  if (options.body && !(options.body instanceof FormData)) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = cookie("certify_csrf");
  const response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body?.error?.message || response.statusText);
    error.code = body?.error?.code; error.status = response.status;
    throw error;
  }
  return body;
}

async function whoAmI() {
  try { return await api("/v1/auth/me"); } catch (e) { return null; }
}

function setupChrome(page, onReady) {
  translatePage();
  $("#lang").addEventListener("change", (e) => { localStorage.setItem("certify-lang", e.target.value); translatePage(); onReady(true); });
  $("#login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    $("#login-error").textContent = "";
    try {
      if (data.get("key")) {
        sessionStorage.setItem("certify-key", data.get("key"));
      } else {
        await api("/v1/auth/login", { method: "POST", body: JSON.stringify({ username: data.get("username"), password: data.get("password") }) });
      }
      await start();
    } catch (e) {
      sessionStorage.removeItem("certify-key");
      $("#login-error").textContent = t("login_failed");
    }
  });
  $("#logout").addEventListener("click", async () => {
    sessionStorage.removeItem("certify-key");
    try { await api("/v1/auth/logout", { method: "POST" }); } catch (e) { /* already out */ }
    location.reload();
  });
  async function start() {
    const me = await whoAmI();
    $("#login").hidden = !!me;
    $("#app").hidden = !me;
    $("#logout").hidden = !me;
    $("#who").textContent = me ? `${me.display_name || me.actor_id} · ${me.kind} · ${me.regions.join(",")}` : "";
    if (me) onReady(false);
  }
  start();
}

const BADGE_TEXT = { s: "st_", d: "d_" };
const badge = (prefix, value) => value ? `<span class="badge ${prefix}-${esc(value)}">${esc(t(BADGE_TEXT[prefix] + value))}</span>` : "";

// ---- results page -------------------------------------------------------------------
function resultsPage() {
  let cursor = null;
  const rows = [];
  const filters = () => {
    const data = new FormData($("#filters"));
    const params = new URLSearchParams();
    for (const [k, v] of data.entries()) if (v) params.set(k, v);
    return params;
  };
  function render() {
    $("#results tbody").innerHTML = rows.length ? rows.map((r) => `<tr>
      <td>${esc(r.name)}</td><td>${esc(r.national_id_masked)}</td><td>${esc(r.external_ref || "")}</td>
      <td>${esc(r.region_code)}</td><td>${esc(t("sc_" + r.scheme))}</td><td>${esc(r.period)}</td>
      <td>${badge("s", r.status)}</td><td>${badge("d", r.decision)}</td><td>${esc((r.reasons || []).join(", "))}</td>
      <td>${r.method ? esc(t("m_" + r.method)) : ""}</td><td>${esc((r.certified_at || "").slice(0, 16).replace("T", " "))}</td>
      <td>${esc(r.valid_until || "")}</td><td>${esc(r.due_by || "")}</td></tr>`).join("")
      : `<tr><td colspan="13" class="muted">${esc(t("none"))}</td></tr>`;
    $("#count").textContent = `${rows.length} ${t("rows_shown")}`;
  }
  async function load(reset) {
    if (reset) { rows.length = 0; cursor = null; }
    const params = filters();
    params.set("limit", "50");
    if (cursor) params.set("since", cursor);
    $("#error").textContent = "";
    try {
      const page = await api("/v1/results?" + params.toString());
      rows.push(...page.results);
      cursor = page.next_cursor;
      $("#more").hidden = !page.has_more;
    } catch (e) { $("#error").textContent = `${e.code || ""} ${e.message}`; }
    render();
  }
  $("#filters").addEventListener("submit", (e) => { e.preventDefault(); load(true); });
  $("#more").addEventListener("click", () => load(false));
  $("#export").addEventListener("click", async () => {
    const response = await fetch("/v1/results/export.csv?" + filters().toString(), {
      headers: sessionStorage.getItem("certify-key") ? { Authorization: "Bearer " + sessionStorage.getItem("certify-key") } : {},
      credentials: "same-origin" });
    if (!response.ok) { $("#error").textContent = (await response.json()).error.message; return; }
    const url = URL.createObjectURL(await response.blob());
    const link = Object.assign(document.createElement("a"), { href: url, download: "results.csv" });
    link.click(); URL.revokeObjectURL(url);
  });
  setupChrome("results", (relabel) => relabel ? render() : load(true));
}

// ---- review page --------------------------------------------------------------------
function reviewsPage() {
  let items = [];
  let holds = [];
  let selected = null;
  let detail = null;
  let hold = null;
  const evidence = (url) => url + "?reason=" + encodeURIComponent("manual review");
  function renderList() {
    $("#queue tbody").innerHTML = items.length ? items.map((r) => `<tr class="clickable ${selected === r.attempt_id ? "selected" : ""}" data-id="${esc(r.attempt_id)}">
      <td>${esc(r.name)}<br><span class="muted">${esc(r.national_id_masked)}</span></td>
      <td>${esc(r.region_code)}</td><td class="nowrap">${esc(t("k_" + r.kind))}</td>
      <td>${esc((r.reasons || []).join(", "))}</td><td class="nowrap">${esc(r.opened_at.slice(0, 16).replace("T", " "))}</td></tr>`).join("")
      : `<tr><td colspan="5" class="muted">${esc(t("none"))}</td></tr>`;
    document.querySelectorAll("#queue tr.clickable").forEach((row) => row.addEventListener("click", () => open(row.dataset.id)));
  }
  function renderHolds() {
    $("#holds tbody").innerHTML = holds.length ? holds.map((h) => `<tr class="clickable ${selected === h.review_id ? "selected" : ""}" data-hold="${esc(h.review_id)}">
      <td>${esc(h.enrolment.name)}<br><span class="muted">${esc(h.enrolment.national_id_masked)}</span></td>
      <td>${esc(h.enrolment.region_code)}</td><td>${esc(h.other ? h.other.region_code : "–")}</td>
      <td class="nowrap">${esc(h.opened_at.slice(0, 16).replace("T", " "))}</td></tr>`).join("")
      : `<tr><td colspan="4" class="muted">${esc(t("none"))}</td></tr>`;
    document.querySelectorAll("#holds tr.clickable").forEach((row) => row.addEventListener("click", () => openHold(row.dataset.hold)));
  }
  function renderHold() {
    const h = hold;
    const brief = (e, label) => e ? `<dt>${esc(t(label))}</dt><dd>${esc(e.name)} · ${esc(e.national_id_masked)} · ${esc(e.region_code)}
      · ${esc(t("es_" + e.enrolment_status))} · ${esc(e.created_at.slice(0, 10))}</dd>` : "";
    $("#detail").innerHTML = `<h2>${esc(t("k_" + h.kind))}</h2>
      <dl class="scores">${brief(h.enrolment, "new_enrolment")}${brief(h.other, "other_enrolment")}</dl>
      ${h.state !== "open" ? `<p>${esc(t(h.decision))} · ${esc(h.decided_by || "")}${h.note ? " · " + esc(h.note) : ""}</p>`
        : h.may_decide ? `<form id="hold-decision" class="filters">
        <label>${esc(t("decide"))}<select name="decision"><option value="keep_new">${esc(t("keep_new"))}</option><option value="reject_new">${esc(t("reject_new"))}</option></select></label>
        <label>${esc(t("note"))}<input name="note" maxlength="2000"></label>
        <button type="submit">${esc(t("submit"))}</button><span id="decision-msg"></span>
      </form>` : `<p class="muted">${esc(t("needs_both"))}</p>`}`;
    const form = $("#hold-decision");
    if (form) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          hold = await api(`/v1/reviews/enrolments/${h.review_id}/decision`, { method: "POST", body: JSON.stringify({ decision: data.get("decision"), note: data.get("note") || null }) });
          await loadList(); renderDetail();
          $("#flash").textContent = `${t("decided_ok")}: ${h.enrolment.name} ${h.enrolment.national_id_masked}`;
        } catch (e) { $("#decision-msg").innerHTML = `<span class="error">${esc(e.code)}: ${esc(e.message)}</span>`; }
      });
    }
  }
  function renderDetail() {
    const box = $("#detail");
    if (hold) { renderHold(); return; }
    if (!detail) { box.innerHTML = `<p class="muted">${esc(t("pick"))}</p>`; return; }
    const d = detail;
    const scores = Object.entries(d.scores || {}).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "number" ? v.toFixed(3) : v)}</dd>`).join("");
    const reasons = (decision) => Object.keys(d.decision_reasons[decision] || {}).map((code) => `<option value="${esc(code)}">${esc(t("r_" + code))}</option>`).join("");
    box.innerHTML = `<h2>${esc(d.name)} <span class="muted">${esc(d.national_id_masked)}</span></h2>
      <p>${badge("d", d.attempt_status)} ${esc(t("k_" + d.kind))} · ${esc(d.period)} · ${esc((d.reasons || []).join(", "))}</p>
      ${d.appeal_note ? `<p><strong>${esc(t("appeal_note"))}:</strong> ${esc(d.appeal_note)}</p>` : ""}
      <p class="notice">${esc(t("audit_notice"))}</p>
      <h3>${esc(t("key_frames"))}</h3><div class="frames">${d.key_frame_urls.map((u, i) => `<figure><img alt="${i}" src="${esc(evidence(u))}"><figcaption>#${i + 1}</figcaption></figure>`).join("")}</div>
      <h3>${esc(t("references"))}</h3><div class="frames">${d.reference_photo_urls.map((u) => `<figure><img alt="reference" src="${esc(evidence(u))}"></figure>`).join("")}</div>
      <h3>${esc(t("scores"))}</h3><dl class="scores"><dt>${esc(t("match_distance"))}</dt><dd>${d.match_distance == null ? "–" : d.match_distance.toFixed(3)}</dd>${scores}</dl>
      ${d.state === "open" ? `<h3>${esc(t("decide"))}</h3>
      <form id="decision" class="filters">
        <label>${esc(t("decide"))}<select name="decision"><option value="passed">${esc(t("pass"))}</option><option value="failed">${esc(t("fail"))}</option></select></label>
        <label>${esc(t("reason"))}<select name="reason">${reasons("passed")}</select></label>
        <label>${esc(t("note"))}<input name="note" maxlength="2000"></label>
        <button type="submit">${esc(t("submit"))}</button><span id="decision-msg"></span>
      </form>` : `<p>${badge("d", d.decision)} ${esc(d.reason || "")} · ${esc(d.decided_by || "")}</p>`}`;
    const form = $("#decision");
    if (form) {
      form.decision.addEventListener("change", () => { form.reason.innerHTML = reasons(form.decision.value); });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          await api(`/v1/reviews/${d.attempt_id}/decision`, { method: "POST", body: JSON.stringify({ decision: data.get("decision"), reason: data.get("reason"), note: data.get("note") || null }) });
          await loadList(); detail = await api(`/v1/reviews/${d.attempt_id}`); renderDetail();
          $("#flash").textContent = `${t("decided_ok")}: ${d.name} ${d.national_id_masked}`;
        } catch (e) { $("#decision-msg").innerHTML = `<span class="error">${esc(e.code)}: ${esc(e.message)}</span>`; }
      });
    }
  }
  async function open(id) {
    selected = id; hold = null; renderList(); renderHolds();
    $("#flash").textContent = "";
    try { detail = await api(`/v1/reviews/${id}`); } catch (e) { detail = null; $("#error").textContent = e.message; }
    renderDetail();
  }
  async function openHold(id) {
    selected = id; detail = null; renderList(); renderHolds();
    $("#flash").textContent = "";
    try { hold = await api(`/v1/reviews/enrolments/${id}`); } catch (e) { hold = null; $("#error").textContent = e.message; }
    renderDetail();
  }
  async function loadList() {
    const state = $("#state").value;
    try { items = await api("/v1/reviews?state=" + state); $("#error").textContent = ""; }
    catch (e) { items = []; $("#error").textContent = `${e.code || ""} ${e.message}`; }
    try { holds = await api("/v1/reviews/enrolments?state=" + state); } catch (e) { holds = []; }
    renderList(); renderHolds();
  }
  $("#state").addEventListener("change", loadList);
  setupChrome("reviews", (relabel) => { if (relabel) { renderList(); renderHolds(); renderDetail(); } else { loadList(); renderDetail(); } });
}

window.certifyAgency = { resultsPage, reviewsPage };

// Started from the script tag's data-page (the pages run no inline script: strict CSP).
const startPage = { results: resultsPage, reviews: reviewsPage }[document.currentScript?.dataset.page];
if (startPage) startPage();
