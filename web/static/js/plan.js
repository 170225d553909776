// The recording's timeline for a challenge: a short lead-in, one step per action (and
// one for the digits), a short tail. The whole recording is kept within 4.5-9.8 s, so it
// always lands inside the 4-10 s the service expects, even for 3 actions plus digits.

export const LEAD_MS = 1000;
export const ACTION_MS = 2600;
export const DIGITS_MS = 3600;
export const TAIL_MS = 800;
export const MIN_TOTAL_MS = 4500;
export const MAX_TOTAL_MS = 9800;
export const COUNTDOWN_S = 3;

const ICONS = { blink: 'blink', turn_left: 'turn_left', turn_right: 'turn_right', nod: 'nod', open_mouth: 'open_mouth' };

export function buildPlan(challenge) {
  const steps = (challenge.actions || []).map((action) => ({
    kind: 'action', action, key: `action.${action}`, params: null, icon: ICONS[action] || 'face', ms: ACTION_MS,
  }));
  if (challenge.digits) {
    steps.push({
      kind: 'digits', action: 'digits', key: 'action.digits', params: { digits: challenge.digits.split('').join(' ') },
      icon: 'digits', ms: DIGITS_MS,
    });
  }
  const stepsMs = steps.reduce((sum, s) => sum + s.ms, 0);
  let total = LEAD_MS + stepsMs + TAIL_MS;
  let scale = 1;
  if (total > MAX_TOTAL_MS) scale = (MAX_TOTAL_MS - LEAD_MS - TAIL_MS) / stepsMs;
  let at = LEAD_MS;
  for (const step of steps) {
    step.ms = Math.round(step.ms * scale);
    step.startMs = at;
    at += step.ms;
  }
  total = Math.max(MIN_TOTAL_MS, at + TAIL_MS);
  // with digits the prompts are spoken before recording, never during it: a voice on the
  // recording would be counted as the pensioner reading the digits
  return { steps, totalMs: total, speakDuring: !challenge.digits };
}
