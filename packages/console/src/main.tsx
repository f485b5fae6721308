/**
 * The console's entry: takes the token `freehold dev` put in the URL's fragment, then renders.
 *
 * @module
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { adoptTokenFromLocation } from "./session.ts";

adoptTokenFromLocation();
const container = document.getElementById("root");
if (container === null) throw new Error("the page has no #root element");
createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
