// The page pass of the link this tab opened (kept for the tab's life), so that a result
// page reloaded at /r/<attempt id> can still prove it belongs to the pensioner.
const CURRENT_KEY = 'certify.currentPass';

export function rememberCurrentPass(pass) {
  try { sessionStorage.setItem(CURRENT_KEY, pass); } catch (e) { /* storage may be off */ }
}

/** The pass of the link this tab opened, or null. */
export function currentPass() {
  try { return sessionStorage.getItem(CURRENT_KEY); } catch (e) { return null; }
}

/** Headers proving the pensioner's link ({} when this tab never opened one). */
export function currentPassHeaders() {
  const pass = currentPass();
  return pass ? { 'X-Link-Pass': pass } : {};
}
