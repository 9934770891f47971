/**
 * The page's entry: starts the wallet engine (a worker: the SDK is loaded there, not here), mounts
 * the app, and in production builds registers the service worker that keeps the app shell offline.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { startEngine } from "./engine/client.js";
import "./styles.css";

const root = document.getElementById("root");
if (root === null) throw new Error("the page has no #root element");
const engine = startEngine();
createRoot(root).render(
  <StrictMode>
    <App engine={engine} />
  </StrictMode>,
);

if (import.meta.env.PROD && "serviceWorker" in navigator) {
  const base = import.meta.env.BASE_URL;
  navigator.serviceWorker.register(`${base}sw.js`, { scope: base }).catch(() => {
    // Without it the app works the same, only not offline.
  });
}
