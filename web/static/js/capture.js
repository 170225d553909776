// The capture flow shared by the pensioner's phone and the staff tablet:
//   camera check (mirrored preview, oval guide, live hints)
//   -> a session is opened (the random challenge) -> spoken countdown
//   -> the challenge one step at a time (big text, icon, spoken, per-step countdown)
//      while MediaRecorder records 4-10 s
//   -> the recording is put in the outbox (IndexedDB) with its session, then uploaded
//      resumably; offline, it waits there and goes when the network is back.
import { ApiError, NetworkError, errorKey } from './api.js';
import { CameraError, isFrontFacing, openCamera, startHints, stopStream } from './camera.js';
import { currentLang, setText, t } from './i18n.js';
import { putItem, removeItem } from './outbox.js';
import { COUNTDOWN_S, buildPlan } from './plan.js';
import { canRecord, startRecording } from './recorder.js';
import { speak, stopSpeaking, unlockSpeech } from './speech.js';
import { sendRecording } from './uploader.js';

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function iconUrl(name) {
  const img = $('step-icon');
  return img.src.replace(/icons\/[a-z_]+\.svg(\?.*)?$/, `icons/${name}.svg`);
}

export class CaptureFlow {
  /**
   * openSession: async () => the session (challenge, nonce, uploads_url ...)
   * owner: who the outbox items belong to ('link:<id>', 'staff:<pensioner id>')
   * onAttempt(attempt): the recording was accepted
   * onFatal(error): the flow cannot go on (shown by the page)
   * showScreen(id): the page's screen switcher
   */
  constructor({ openSession, owner, withAudio = false, onAttempt, onFatal, showScreen }) {
    Object.assign(this, { openSession, owner, withAudio, onAttempt, onFatal, showScreen });
    this.stream = null;
    this.stopHints = null;
    $('start-recording').addEventListener('click', () => this.onStart());
  }

  panel(name) {
    ['camera', 'record', 'upload'].forEach((p) => { $(`panel-${p}`).hidden = p !== name; });
    $('stage').hidden = name === 'upload';
  }

  async start() {
    this.showScreen('screen-capture');
    this.panel('camera');
    $('camera-error').hidden = true;
    $('start-recording').disabled = true;
    setText($('hint'), 'camera.opening');
    $('hint').className = 'hint';
    if (!canRecord()) { this.cameraProblem('camera.unsupported'); return; }
    try {
      this.stream = await openCamera({ facing: 'user', audio: this.withAudio });
    } catch (error) {
      this.cameraProblem(error instanceof CameraError && error.kind === 'denied' ? 'camera.denied.text'
        : error instanceof CameraError && error.kind === 'unsupported' ? 'camera.unsupported' : 'camera.denied.text');
      return;
    }
    const video = $('preview');
    video.srcObject = this.stream;
    video.classList.toggle('mirrored', isFrontFacing(this.stream));
    try { await video.play(); } catch (e) { /* autoplay muted normally works */ }
    this.stopHints = startHints(video, (code, good) => {
      setText($('hint'), `camera.hint.${code}`);
      $('hint').className = `hint ${good ? 'good' : code === 'position' ? '' : 'bad'}`;
      $('stage').classList.toggle('good', good);
      $('stage').classList.toggle('bad', !good && code !== 'position');
    });
    setText($('start-recording'), 'camera.start');
    $('start-recording').disabled = false;
    this.ready = true;
  }

  cameraProblem(key) {
    this.ready = false;
    setText($('hint'), 'camera.denied.title');
    $('hint').className = 'hint bad';
    setText($('camera-error'), key);
    $('camera-error').hidden = false;
    setText($('start-recording'), 'common.retry');
    $('start-recording').disabled = false;
  }

  releaseCamera() {
    if (this.stopHints) this.stopHints();
    this.stopHints = null;
    stopStream(this.stream);
    this.stream = null;
    $('preview').srcObject = null;
  }

  async onStart() {
    if (!this.ready) { this.start(); return; }
    unlockSpeech(); // iOS speaks only after a tap
    $('start-recording').disabled = true;
    let session;
    try {
      session = await this.openSession();
    } catch (error) {
      if (error instanceof NetworkError || (error instanceof ApiError && error.status >= 500)) {
        setText($('camera-error'), errorKey(error));
        $('camera-error').hidden = false;
        $('start-recording').disabled = false;
        return;
      }
      this.releaseCamera();
      this.onFatal(error);
      return;
    }
    try {
      await this.record(session);
    } catch (error) {
      this.releaseCamera();
      stopSpeaking();
      this.onFatal(new ApiError(0, 'record_failed', String(error)));
    }
  }

  async record(session) {
    const plan = buildPlan(session.challenge);
    const lang = currentLang();
    this.panel('record');
    if (this.stopHints) { this.stopHints(); this.stopHints = null; }
    $('step-count').textContent = '';
    $('step-timer').textContent = '';
    $('step-icon').src = iconUrl('get_ready');
    setText($('step-text'), 'record.get_ready');
    const planList = $('plan');
    planList.replaceChildren(...plan.steps.map((step) => setText(document.createElement('li'), step.key, step.params)));
    planList.hidden = false;
    if (!plan.speakDuring) {
      // the prompts are read out now, so the recording holds only the pensioner's voice
      const text = [t('record.listen'), ...plan.steps.map((s) => t(s.key, s.params))].join(' ');
      speak(text, lang);
      await sleep(Math.min(9000, 1200 + text.length * 180));
    }
    const overlay = $('countdown-overlay');
    overlay.hidden = false;
    for (let n = COUNTDOWN_S; n >= 1; n -= 1) {
      overlay.textContent = String(n);
      if (plan.speakDuring) speak(String(n), lang);
      await sleep(1000);
    }
    overlay.hidden = true;
    planList.hidden = true;

    const recording = startRecording(this.stream);
    $('rec-indicator').hidden = false;
    const started = performance.now();
    const total = plan.steps.length;
    for (let i = 0; i < total; i += 1) {
      const step = plan.steps[i];
      await sleep(Math.max(0, started + step.startMs - performance.now()));
      setText($('step-count'), 'record.step_of', { n: i + 1, total });
      $('step-icon').src = iconUrl(step.icon);
      const text = setText($('step-text'), step.key, step.params);
      text.classList.toggle('digits', step.kind === 'digits');
      if (plan.speakDuring) speak(t(step.key, step.params), lang);
      this.tickTimer(started + step.startMs + step.ms);
    }
    await sleep(Math.max(0, started + plan.totalMs - performance.now()));
    clearInterval(this.timer);
    $('step-timer').textContent = '';
    setText($('step-text'), 'record.keep_still');
    const blob = await recording.stop();
    $('rec-indicator').hidden = true;
    this.releaseCamera();
    if (!blob.size) throw new Error('empty recording');

    const item = {
      id: session.id,
      owner: this.owner,
      session: {
        id: session.id, pensioner_id: session.pensioner_id, nonce: session.nonce,
        uploads_url: session.uploads_url, expires_at: session.expires_at, upload_deadline: session.upload_deadline,
      },
      blob,
      mimeType: (recording.mimeType || blob.type || 'video/webm').split(';')[0],
      recordedAt: Date.now(),
      uploadId: null,
      sha256: null,
    };
    await putItem(item); // kept before anything goes over the network
    await this.upload(item);
  }

  tickTimer(endsAt) {
    clearInterval(this.timer);
    const show = () => {
      const left = Math.max(0, Math.ceil((endsAt - performance.now()) / 1000));
      $('step-timer').textContent = left ? String(left) : '';
    };
    show();
    this.timer = setInterval(show, 200);
  }

  /** Send a recording from the outbox (just made, or left from an earlier visit). */
  async upload(item) {
    this.showScreen('screen-capture');
    this.panel('upload');
    const bar = $('upload-progress');
    const state = $('upload-state');
    bar.value = 0;
    setText($('upload-percent'), 'upload.preparing');
    state.hidden = true;
    let attempt;
    try {
      attempt = await sendRecording(item, {
        onProgress: (fraction) => {
          const percent = Math.floor(fraction * 100);
          bar.value = percent;
          setText($('upload-percent'), 'upload.progress', { percent });
        },
        onState: (name) => {
          state.hidden = name === 'sending';
          if (name === 'offline') { setText(state, 'upload.offline'); state.className = 'notice warn'; }
          if (name === 'retrying') { setText(state, 'upload.retrying'); state.className = 'notice warn'; }
        },
      });
    } catch (error) {
      await removeItem(item.id); // refused for good (expired, used ...): never retried
      this.onFatal(error);
      return;
    }
    await removeItem(item.id);
    setText($('upload-percent'), 'upload.done');
    this.onAttempt(attempt, item);
  }
}
