// A result that survives a reload: /r/<attempt id>.
import { initLanguageSwitch, pageData } from '../i18n.js';
import { currentPassHeaders } from '../pass.js';
import { showResult } from '../result.js';

initLanguageSwitch();
document.getElementById('screen-result').hidden = false;
showResult(pageData.attempt_id, {
  helpPhone: pageData.config.help_phone, headers: currentPassHeaders(), onRetry: '/l', finish: '/l',
});
