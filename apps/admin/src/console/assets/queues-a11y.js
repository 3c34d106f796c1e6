// Added to Bull Board's page (/queues), which the console links to, for what its UI lacks (axe, serious/critical):
// names for its icon-only buttons, its "No workers" badges' names holding their visible text, and its decorative
// Redis logo hidden from screen readers. Bull Board renders with React after load, hence the observer.
const ICON_NAMES = {
  'lucide-maximize': 'Full screen',
  'lucide-minimize': 'Exit full screen',
  'lucide-settings': 'Settings',
  'lucide-ellipsis-vertical': 'More actions',
  'lucide-ellipsis': 'More actions',
  'lucide-x': 'Close',
};

function nameOf(button) {
  const icon = button.querySelector('svg');
  if (!icon) return null;
  if (icon.getAttribute('role') === 'img') return 'Redis details';
  for (const [cls, name] of Object.entries(ICON_NAMES)) if (icon.classList.contains(cls)) return name;
  return null;
}

function patch() {
  for (const button of document.querySelectorAll('button:not([aria-label])')) {
    // Text outside the icon (the Redis logo's <svg> holds a <style>, whose text is not shown).
    if ([...button.childNodes].some((n) => n.nodeName !== 'svg' && n.textContent.trim() !== '')) continue;
    const name = nameOf(button);
    if (name) button.setAttribute('aria-label', name);
  }
  for (const svg of document.querySelectorAll('svg[role="img"]:not([aria-hidden])')) {
    svg.setAttribute('aria-hidden', 'true');
  }
  for (const badge of document.querySelectorAll('button[class*="workersBadge"][aria-label]:not([data-a11y])')) {
    badge.dataset.a11y = '1';
    const text = badge.textContent.trim();
    const label = badge.getAttribute('aria-label');
    if (text && !label.includes(text)) badge.setAttribute('aria-label', `${text}: ${label.toLowerCase()}`);
  }
}

new MutationObserver(patch).observe(document.documentElement, { childList: true, subtree: true });
patch();
