// The front camera, and the cheap in-page check that gives live hints while the person
// gets into position: brightness of the face area (and against the background) from a
// tiny copy of the picture, shake from how much it changes, and - where the browser has
// a FaceDetector - how many faces there are, how big and where. Without a face detector
// the hints fall back to light and steadiness only.

export class CameraError extends Error {
  constructor(kind, cause) { super(kind); this.kind = kind; this.cause = cause; }
}

export async function openCamera({ facing = 'user', audio = false } = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new CameraError('unsupported');
  const video = { facingMode: { ideal: facing }, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio });
  } catch (error) {
    const name = error && error.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new CameraError('denied', error);
    if (name === 'OverconstrainedError') {
      try { return await navigator.mediaDevices.getUserMedia({ video: true, audio }); } catch (e) { /* fall through */ }
    }
    throw new CameraError('unavailable', error);
  }
}

export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

export function isFrontFacing(stream) {
  const track = stream && stream.getVideoTracks()[0];
  const facing = track && track.getSettings ? track.getSettings().facingMode : undefined;
  return facing === undefined || facing === 'user';
}

export const SAMPLE_MS = 400;
export const DARK_LUMA = 60;
export const BRIGHT_LUMA = 215;
export const BACKLIT_RATIO = 0.6;
export const SHAKE_DIFF = 28;
export const FACE_MIN_WIDTH = 0.3;  // of the picture's width
export const FACE_MAX_WIDTH = 0.8;
export const FACE_MAX_OFFSET = 0.18;

/** Measure one small frame: luma inside the oval, outside it, and the frame itself. */
function measure(ctx, width, height) {
  const { data } = ctx.getImageData(0, 0, width, height);
  let inner = 0; let innerN = 0; let outer = 0; let outerN = 0;
  const luma = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4;
      const l = (data[i] * 299 + data[i + 1] * 587 + data[i + 2] * 114) / 1000;
      luma[y * width + x] = l;
      const dx = (x + 0.5) / width - 0.5; const dy = (y + 0.5) / height - 0.47;
      if ((dx * dx) / 0.09 + (dy * dy) / 0.16 <= 1) { inner += l; innerN += 1; } else { outer += l; outerN += 1; }
    }
  }
  return { inner: inner / Math.max(1, innerN), outer: outer / Math.max(1, outerN), luma };
}

/**
 * Start giving hints for a playing <video>; onHint(code, good) is called when the hint
 * changes (codes are camera.hint.<code> in the catalogue). Returns a stop function.
 */
export function startHints(video, onHint) {
  const canvas = document.createElement('canvas');
  const width = 48; const height = 64;
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const detector = 'FaceDetector' in window ? safeDetector() : null;
  let faces = null; // last FaceDetector answer
  let detecting = false;
  let previous = null;
  let shown = null; let candidate = null; let seen = 0;

  const tick = () => {
    if (!video.videoWidth) return;
    ctx.drawImage(video, 0, 0, width, height);
    const m = measure(ctx, width, height);
    let shake = 0;
    if (previous) {
      let sum = 0;
      for (let i = 0; i < m.luma.length; i += 1) sum += Math.abs(m.luma[i] - previous[i]);
      shake = sum / m.luma.length;
    }
    previous = m.luma;
    if (detector && !detecting) {
      detecting = true;
      detector.detect(video).then((found) => { faces = found; }).catch(() => { faces = null; })
        .finally(() => { detecting = false; });
    }
    const hint = decide(m, shake, faces, video.videoWidth, video.videoHeight);
    if (hint === candidate) seen += 1; else { candidate = hint; seen = 1; }
    if (hint !== shown && (seen >= 2 || shown === null)) {
      shown = hint;
      onHint(hint, hint === 'ok');
    }
  };
  const timer = setInterval(tick, SAMPLE_MS);
  return () => clearInterval(timer);
}

function safeDetector() {
  try { return new window.FaceDetector({ fastMode: true, maxDetectedFaces: 3 }); } catch (e) { return null; }
}

export function decide(m, shake, faces, videoWidth, videoHeight) {
  if (m.inner < DARK_LUMA) return m.outer > BRIGHT_LUMA * 0.8 ? 'backlit' : 'too_dark';
  if (m.inner > BRIGHT_LUMA) return 'too_bright';
  if (m.outer > 180 && m.inner < m.outer * BACKLIT_RATIO) return 'backlit';
  if (faces) {
    if (faces.length === 0) return 'no_face';
    if (faces.length > 1) return 'multiple_faces';
    const box = faces[0].boundingBox;
    const w = box.width / videoWidth;
    if (w < FACE_MIN_WIDTH) return 'closer';
    if (w > FACE_MAX_WIDTH) return 'farther';
    const cx = (box.x + box.width / 2) / videoWidth - 0.5;
    const cy = (box.y + box.height / 2) / videoHeight - 0.47;
    if (Math.abs(cx) > FACE_MAX_OFFSET || Math.abs(cy) > FACE_MAX_OFFSET) return 'center';
    if (shake > SHAKE_DIFF) return 'steady';
    return 'ok';
  }
  if (shake > SHAKE_DIFF) return 'steady';
  return 'position'; // light is fine; this browser cannot tell where the face is
}
