// The challenge spoken aloud with the browser's speech synthesis (a zh-CN voice when the
// phone has one). Fire and forget: nothing waits for speech to finish, so a phone
// without voices (or with the sound off) follows the same timeline.

let voices = [];
function loadVoices() { voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : []; }
if (window.speechSynthesis) {
  loadVoices();
  window.speechSynthesis.addEventListener?.('voiceschanged', loadVoices);
}

function voiceFor(tag) {
  const exact = voices.find((v) => v.lang.replace('_', '-').toLowerCase() === tag.toLowerCase());
  if (exact) return exact;
  const base = tag.split('-')[0].toLowerCase();
  return voices.find((v) => v.lang.toLowerCase().startsWith(base)) || null;
}

export function canSpeak() { return 'speechSynthesis' in window; }

export function speak(text, lang) {
  if (!canSpeak() || !text) return;
  const tag = lang === 'zh-CN' ? 'zh-CN' : 'en-US';
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = tag;
  const voice = voiceFor(tag);
  if (voice) utterance.voice = voice;
  utterance.rate = 0.9; // a little slower than usual for older listeners
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(utterance);
}

/** iOS only speaks after a tap: call this from the tap that starts the recording. */
export function unlockSpeech() {
  if (!canSpeak()) return;
  const utterance = new SpeechSynthesisUtterance(' ');
  utterance.volume = 0;
  window.speechSynthesis.speak(utterance);
}

export function stopSpeaking() { if (canSpeak()) window.speechSynthesis.cancel(); }
