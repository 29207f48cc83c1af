import './a11y';
import type { PropsWithChildren } from 'react';
import './app.scss';

/** The app: the pages render as its children. */
function App({ children }: PropsWithChildren) {
  return children;
}

export default App;
