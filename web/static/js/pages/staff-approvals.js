// Reference photos waiting for a second person: the new photo beside the enrolled one,
// how alike the faces are, and approve / reject. One's own photos cannot be decided.
import { errorKey } from '../api.js';
import { formatDateTime, onLanguageChange, setText, t } from '../i18n.js';
import { el, initStaff, staffApi, tEl } from '../staff.js';

const $ = (id) => document.getElementById(id);
// The server places the distance in the engine's verdict bands (`likeness`).
const LIKENESS_KEYS = {
  same: 'staff.approvals.similar',
  unsure: 'staff.approvals.unsure',
  different: 'staff.approvals.different',
  no_enrolled: 'staff.approvals.no_enrolled',
};
let items = [];

function figure(src, key) {
  const fig = el('figure');
  const img = el('img', 'face');
  img.src = src;
  img.alt = '';
  img.loading = 'lazy';
  fig.append(img, tEl('figcaption', '', key));
  return fig;
}

function card(item) {
  const r = item.reference;
  const li = el('li');
  li.dataset.reference = r.id;
  const head = el('div', 'line');
  head.append(el('strong', '', item.pensioner_name), el('span', 'meta', ` ${item.national_id_masked} · ${item.region_code}`));
  const photos = el('div', 'photos');
  photos.append(figure(r.photo_url, 'staff.approvals.new'));
  item.active_photo_urls.forEach((url) => photos.append(figure(url, 'staff.approvals.enrolled')));
  const taken = tEl('p', 'meta', 'staff.approvals.taken_by', { name: r.created_by_name || r.created_by, time: formatDateTime(r.created_at) });
  const alike = tEl('p', `notice ${item.likeness === 'same' ? 'ok' : 'warn'}`, LIKENESS_KEYS[item.likeness]);
  const outcome = el('p', 'notice outcome', '');
  outcome.hidden = true;
  outcome.setAttribute('role', 'status');
  li.append(head, photos, taken, alike);
  if (item.mine) {
    li.append(tEl('p', 'notice warn mine', 'staff.approvals.mine'));
    return li;
  }
  const actions = el('div', 'actions row');
  const approve = tEl('button', 'button primary approve', 'staff.approvals.approve');
  const reject = tEl('button', 'button secondary reject', 'staff.approvals.reject');
  approve.type = 'button';
  reject.type = 'button';
  const rejectBox = el('div', 'reject-box');
  rejectBox.hidden = true;
  const reason = el('input');
  reason.dataset.i18nPlaceholder = 'staff.approvals.reject_reason';
  reason.placeholder = t('staff.approvals.reject_reason');
  reason.setAttribute('aria-label', t('staff.approvals.reject_reason'));
  const confirm = tEl('button', 'button secondary', 'staff.approvals.reject');
  confirm.type = 'button';
  rejectBox.append(reason, confirm);
  actions.append(approve, reject);
  if (!item.may_approve) {
    // taken outside the pensioner's paying region: a reviewer there approves it
    approve.hidden = true;
    li.append(tEl('p', 'notice warn paying-region', 'error.paying_region_approval_required'));
  }
  li.append(actions, rejectBox, outcome);

  const decide = async (url, body, doneKey) => {
    approve.disabled = true; reject.disabled = true; confirm.disabled = true;
    try {
      await staffApi('POST', url, body ? { json: body } : {});
      setText(outcome, doneKey);
      outcome.className = 'notice ok outcome';
      actions.hidden = true;
      rejectBox.hidden = true;
    } catch (error) {
      setText(outcome, errorKey(error));
      outcome.className = 'notice error outcome';
      approve.disabled = false; reject.disabled = false; confirm.disabled = false;
    }
    outcome.hidden = false;
  };
  approve.addEventListener('click', () => decide(`/v1/references/${r.id}/approve`, null, 'staff.approvals.approved'));
  reject.addEventListener('click', () => { rejectBox.hidden = false; reason.focus(); });
  confirm.addEventListener('click', () => {
    if (!reason.value.trim()) { reason.focus(); return; }
    decide(`/v1/references/${r.id}/reject`, { reason: reason.value.trim() }, 'staff.approvals.rejected');
  });
  return li;
}

function render() {
  $('approvals').replaceChildren(...items.map(card));
  $('approvals-empty').hidden = items.length > 0;
}

async function load() {
  try {
    items = await staffApi('GET', '/v1/references?status=pending');
    render();
  } catch (error) {
    setText($('approvals-error'), errorKey(error));
    $('approvals-error').hidden = false;
  }
}

onLanguageChange(render);
initStaff().then(load).catch(() => {});
