import { initLanguageSwitch } from '../i18n.js';

initLanguageSwitch();
