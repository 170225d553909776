// The assisted check on a staff tablet: the same capture flow as on a pensioner's phone;
// the session is opened with the staff sign-in, so the result records who assisted and
// on which device (this tablet's id).
import { deviceId, errorKey } from '../api.js';
import { CaptureFlow } from '../capture.js';
import { pageData, setText } from '../i18n.js';
import { listItems } from '../outbox.js';
import { showResult } from '../result.js';
import { showScreen } from '../screens.js';
import { initStaff, staffApi } from '../staff.js';

const $ = (id) => document.getElementById(id);
const id = pageData.pensioner_id;
const caseUrl = `/staff/cases/${id}`;
let me = null;

const flow = new CaptureFlow({
  owner: `staff:${id}`,
  withAudio: Boolean(pageData.config.with_digits),
  showScreen,
  openSession: () => staffApi('POST', `/v1/pensioners/${id}/sessions`, { json: { device_id: deviceId(), consent: true } }),
  onAttempt: (attempt) => {
    showScreen('screen-result');
    showResult(attempt.id, {
      helpPhone: null, staff: true, onRetry: () => flow.start(), finish: caseUrl, finishKey: 'staff.assist.back',
    });
  },
  onFatal: (error) => {
    setText($('assist-error'), errorKey(error));
    $('assist-error').hidden = false;
    showScreen('screen-consent');
  },
});

$('back').href = caseUrl;
$('agree').addEventListener('click', () => { $('assist-error').hidden = true; flow.start(); });
setText($('device-note'), 'staff.assist.device', { device: deviceId().slice(0, 8) });

async function init() {
  me = await initStaff();
  const detail = await staffApi('GET', `/v1/cases/${id}`);
  setText($('assist-for'), 'staff.assist.for', { name: detail.case.name });
  const pending = await listItems(`staff:${id}`);
  if (pending.length) flow.upload(pending[0]);
  return me;
}

init().catch(() => {});
