/**
 * Imported first by the worker's startup snapshot (worker-snapshot.ts), so that it is evaluated
 * before any other module: while the snapshot is being built, `crypto.randomUUID` throws. Node draws
 * its UUIDs from a batch of random bytes kept in the JavaScript heap; a UUID drawn while the
 * snapshot is built would leave that batch in the snapshot, and every worker started from it would
 * draw the same UUIDs (run and job identifiers). Building the snapshot fails instead.
 *
 * @module
 */
const crypto = process.getBuiltinModule("node:crypto");
const webCrypto = globalThis.crypto;
const draw = crypto.randomUUID.bind(crypto);
const webDraw = webCrypto.randomUUID.bind(webCrypto);
let building = true;

function refused(): never {
  throw new Error(
    "crypto.randomUUID was called while the worker's startup snapshot was being built: every worker " +
      "started from it would draw the same UUIDs. Draw it when the worker runs, not when its module loads.",
  );
}

crypto.randomUUID = (options) => (building ? refused() : draw(options));
webCrypto.randomUUID = () => (building ? refused() : webDraw());

/** Called by the snapshot's entry once every module is loaded: UUIDs may be drawn from then on. */
export function snapshotModulesLoaded(): void {
  building = false;
}
