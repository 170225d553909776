// Taking a new reference photo of a pensioner on the staff tablet. It is stored as
// pending: another staff member (or a reviewer) must approve it before it is used.
import { api, errorKey } from '../api.js';
import { CameraError, isFrontFacing, openCamera, startHints, stopStream } from '../camera.js';
import { pageData, setText } from '../i18n.js';
import { initStaff, staffApi } from '../staff.js';

const $ = (id) => document.getElementById(id);
const id = pageData.pensioner_id;
export const JPEG_QUALITY = 0.92;
let stream = null;
let stopHints = null;
let photo = null;

async function startCamera() {
  $('photo-error').hidden = true;
  try {
    stream = await openCamera({ facing: 'environment' });
  } catch (error) {
    setText($('photo-error'), error instanceof CameraError && error.kind === 'unsupported' ? 'camera.unsupported' : 'camera.denied.text');
    $('photo-error').hidden = false;
    return;
  }
  const video = $('preview');
  video.srcObject = stream;
  video.classList.toggle('mirrored', isFrontFacing(stream));
  try { await video.play(); } catch (e) { /* muted autoplay */ }
  stopHints = startHints(video, (code, good) => {
    setText($('hint'), `camera.hint.${code}`);
    $('hint').className = `hint ${good ? 'good' : code === 'position' ? '' : 'bad'}`;
  });
  $('take').disabled = false;
}

function snapshot() {
  const video = $('preview');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
}

function showStill(on) {
  $('still').hidden = !on;
  $('preview').hidden = on;
  $('take').hidden = on;
  $('submit').hidden = !on;
  $('retake').hidden = !on;
}

$('take').addEventListener('click', async () => {
  photo = await snapshot();
  const still = $('still');
  if (still.src) URL.revokeObjectURL(still.src);
  still.src = URL.createObjectURL(photo);
  showStill(true);
});

$('retake').addEventListener('click', () => { $('photo-error').hidden = true; showStill(false); });

$('submit').addEventListener('click', async () => {
  $('submit').disabled = true;
  $('photo-error').hidden = true;
  const form = new FormData();
  form.append('photo', photo, 'capture.jpg');
  try {
    await api('POST', `/v1/pensioners/${id}/references`, { body: form });
    if (stopHints) stopHints();
    stopStream(stream);
    $('photo-sent').hidden = false;
    $('submit').hidden = true;
    $('retake').hidden = true;
    $('hint').hidden = true;
    $('back').hidden = false;
  } catch (error) {
    setText($('photo-error'), errorKey(error));
    $('photo-error').hidden = false;
  } finally {
    $('submit').disabled = false;
  }
});

async function init() {
  await initStaff();
  $('back').href = `/staff/cases/${id}`;
  const detail = await staffApi('GET', `/v1/cases/${id}`);
  setText($('photo-for'), 'staff.photo.title');
  $('photo-for').append(` · ${detail.case.name}`);
  await startCamera();
}

init().catch(() => {});
