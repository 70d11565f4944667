/**
 * What the browser tests ask of the driver (`driver.ts`, run as its own process) and what it
 * reports back, as one JSON line. Kept apart from the driver so the tests import these types
 * without pulling the DOM library (which the driver's page callbacks need) into the shared type
 * check: `deno task check` checks the driver separately (see `.ci/browser.json`).
 *
 * @module
 */

/** A digit to draw: its label and 784 bytes (0..255, row-major). */
export interface DrawDigit {
  readonly label: number;
  readonly pixels: readonly number[];
}

/** Open the demo page, optionally draw a touch stroke, draw digits, optionally show deltas. */
export interface DemoJob {
  readonly kind: "demo";
  /** Screenshot base name: `<artifacts>/<name>.png` (and `<name>-delta.png`). */
  readonly name: string;
  /** The page URL (served on 127.0.0.1). */
  readonly url: string;
  /** Digits to draw, one after the other (the last stays on the pad for the screenshot). */
  readonly digits: readonly DrawDigit[];
  /** Draw one vertical touch stroke first (then clear). */
  readonly touch: boolean;
  /** After drawing: toggle the delta views (predicted label, then `deltaLabel`). */
  readonly deltaLabel: number | null;
  /** At the end: click "train a quick model" and wait for it (screenshot `<name>-quick.png`). */
  readonly quickTrain: boolean;
}

/** Open a report file offline. */
export interface ReportJob {
  readonly kind: "report";
  /** Screenshot base name. */
  readonly name: string;
  /** The HTML file (opened as file://). */
  readonly file: string;
}

/** What the test asks for. */
export interface DriverConfig {
  /** Chromium executable. */
  readonly chromium: string;
  /** Folder for the screenshots. */
  readonly artifacts: string;
  /** Run in order, in one browser. */
  readonly jobs: readonly (DemoJob | ReportJob)[];
}

/** One layer as the page lists it (`window.__demo.state.layers`). */
export interface SeenLayer {
  name: string;
  shape: number[];
  maps: number;
  /** Euclidean norm of the layer's values as shown (activations or deltas). */
  l2: number;
}

/** The demo state the page exposes (`window.__demo.state`), as far as the tests read it. */
export interface SeenState {
  model: string;
  deltasAvailable: boolean;
  kernelPath: string;
  prediction: number | null;
  probabilities: number[] | null;
  input: number[];
  mode: string;
  layers: SeenLayer[];
  renderedMaps: number;
  updates: number;
  error: string | null;
  training: string;
}

/** The layer views in the DOM: per layer box, its canvases and how many are not one flat color. */
export interface SeenCanvases {
  readonly layer: string;
  readonly canvases: number;
  readonly painted: number;
}

/** A state together with the canvases that were on the page at that moment. */
export interface SeenView {
  readonly state: SeenState;
  readonly canvases: SeenCanvases[];
}

/** What a {@link DemoJob} saw. */
export interface DemoResult {
  readonly kind: "demo";
  readonly initial: SeenState;
  readonly touch: SeenState | null;
  readonly afterClear: SeenState | null;
  readonly drawn: SeenState[];
  /** The activations view after the last digit. */
  readonly activations: SeenView;
  /** The delta view of the predicted label, then of `deltaLabel` (null unless asked). */
  readonly deltaPredicted: SeenView | null;
  readonly deltaLabel: SeenView | null;
  readonly deltaRadiosDisabled: boolean[];
  readonly note: string;
  /** Whether the "train a quick model" button was visible before any training. */
  readonly quickTrainOffered: boolean;
  /** After the quick training (null unless asked): the state, the views and the note. */
  readonly quick: { view: SeenView; note: string; radiosDisabled: boolean[] } | null;
  readonly kernelPathShown: string;
  readonly foreignRequests: string[];
  readonly pageErrors: string[];
  readonly screenshots: string[];
}

/** What a {@link ReportJob} saw. */
export interface ReportResult {
  readonly kind: "report";
  readonly sections: string[];
  readonly seriesPaths: number;
  readonly cells: number;
  readonly mapImages: number;
  readonly brokenImages: number;
  readonly digitCards: number;
  readonly requests: string[];
  readonly scripts: number;
  readonly screenshots: string[];
}

/** What the driver reports: one result per job, in order. */
export interface DriverResult {
  readonly results: (DemoResult | ReportResult)[];
}
