// What every signed-in staff page shares: who is signed in, signing out, and being sent
// to the sign-in page when the sign-in has run out.
import { ApiError, api } from './api.js';
import { initLanguageSwitch, setText } from './i18n.js';

export async function initStaff() {
  initLanguageSwitch();
  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async () => {
      try { await api('POST', '/v1/auth/logout'); } finally { window.location.href = '/staff/login'; }
    });
  }
  try {
    const me = await api('GET', '/v1/auth/me');
    const who = document.getElementById('who');
    if (who) setText(who, 'staff.signed_in_as', { name: me.display_name || me.actor_id, region: me.regions.join(', ') });
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signInAgain();
    throw error;
  }
}

export function signInAgain() {
  window.location.href = `/staff/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}

/** Staff API calls: a lapsed sign-in goes back to the sign-in page. */
export async function staffApi(method, url, options) {
  try {
    return await api(method, url, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signInAgain();
    throw error;
  }
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function tEl(tag, className, key, params) {
  return setText(el(tag, className), key, params);
}
