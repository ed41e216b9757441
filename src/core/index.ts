/** The pure analysis layer: everything the session, CLI, extension and webview may import. */
export * from './model';
export * from './events';
export * from './format';
export * from './frames';
export * from './growth';
export * from './verdict';
export * from './sites';
export * from './siteGrowth';
export * from './timeseries';
export * from './sourcemaps';
export * from './report';
export { displayPath } from './reportRender';
