/** Vite's types for the app's sources: `import.meta.env`, and assets imported by URL. */
/// <reference types="vite/client" />
