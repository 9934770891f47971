/**
 * The operator console's entry (`console.html`, served at /console/): React and the console's
 * own screens only — no SDK, no wallet engine, no service worker. It talks to /console/api alone.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ConsoleApp } from "./console-app.js";
import "../styles.css";
import "./console.css";

const root = document.getElementById("root");
if (root === null) throw new Error("the page has no #root element");
createRoot(root).render(
  <StrictMode>
    <ConsoleApp />
  </StrictMode>,
);
