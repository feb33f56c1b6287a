import { render } from 'preact';
import { App } from './App';
import { installLinkInterception } from './lib/router';
import { applyTheme, readThemeChoice } from './lib/theme';
import './styles.css';

applyTheme(readThemeChoice(localStorage));
const root = document.getElementById('app')!;
installLinkInterception(document.body);
render(<App />, root);
