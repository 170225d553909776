// One screen at a time: every <section class="screen"> in <main> but the shown one is hidden.
export function showScreen(id) {
  document.querySelectorAll('main > .screen').forEach((el) => { el.hidden = el.id !== id; });
  const screen = document.getElementById(id);
  const heading = screen && screen.querySelector('h1, h2');
  window.scrollTo(0, 0);
  if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
}

/** Make a link element act as a link (`action` a URL) or as a button (`action` a
 * function): a button answers the click, Enter and Space, as a screen reader and the
 * keyboard expect of role=button; a link drops the button's role again. */
export function linkOrButton(el, action) {
  if (typeof action === 'string') {
    el.href = action;
    el.removeAttribute('role');
    el.removeAttribute('tabindex');
    el.onclick = null;
    el.onkeydown = null;
    return;
  }
  el.removeAttribute('href');
  el.setAttribute('role', 'button');
  el.tabIndex = 0;
  el.onclick = (event) => { event.preventDefault(); action(); };
  el.onkeydown = (event) => {
    if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); action(); }
  };
}

export const STICKY_MAX_SHARE = 0.35;

/** The main buttons stay stuck to the bottom of the screen (`.actions.sticky`) only while
 * they take at most STICKY_MAX_SHARE of its height: with large text on a small phone a
 * stuck bar would hide the page under it, so it takes its place in the page instead. */
export function keepStickyBarsShort() {
  const bars = [...document.querySelectorAll('.actions.sticky')];
  if (!bars.length) return;
  const fit = () => bars.forEach((bar) => {
    bar.classList.remove('unstuck');
    if (bar.offsetHeight > window.innerHeight * STICKY_MAX_SHARE) bar.classList.add('unstuck');
  });
  fit();
  window.addEventListener('resize', fit);
  if ('ResizeObserver' in window) bars.forEach((bar) => new ResizeObserver(() => {
    // measured stuck; a bar that is unstuck keeps its height, so no loop
    if (!bar.classList.contains('unstuck') && bar.offsetHeight > window.innerHeight * STICKY_MAX_SHARE) bar.classList.add('unstuck');
  }).observe(bar));
}
