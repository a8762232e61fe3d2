/** Report renderers for a DetectionResult: text, JSON, DOT, HTML, and a PNG screenshot of the HTML. */
export { renderText, renderLineageText, type TextOptions } from './text';
export { renderJson, parseDetectionJson } from './json';
export { renderDot, dotLabel, type DotOptions } from './dot';
export { renderHtml, renderSvg, type HtmlOptions } from './html';
export { screenshotHtml, findChromium, BrowserNotFoundError, type ScreenshotOptions, type ScreenshotResult } from './screenshot';
export { readPng, inkFraction, type PngImage } from './png';
export { compareToTruth, type TruthComparison, type TruthMark } from './truth';
export { buildForest, type ForestView, type FamilyView, type ForestNode } from './forest';
export { formatLineagePaths, pathTo, type LineagePaths } from './paths';
