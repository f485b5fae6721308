/**
 * The console's frame: sign-in, the namespace, and the screens (Inbox, Approvals, Runs, Agents),
 * chosen by the URL's fragment (`#/approvals`, `#/runs/<id>`) so that the gateway serves one page at `/`.
 *
 * @module
 */
import { createClient, type FreeholdClient } from "@freehold/sdk/client";
import { useEffect, useMemo, useState, type SyntheticEvent } from "react";
import { AgentsScreen } from "./screens/agents.tsx";
import { ApprovalsScreen } from "./screens/approvals.tsx";
import { InboxScreen } from "./screens/inbox.tsx";
import { Problem } from "./screens/common.tsx";
import { RunScreen, RunsScreen } from "./screens/runs.tsx";
import { finishSignIn, startSignIn, type OidcConfig } from "./oidc.ts";
import { currentToken, saveNamespace, savedNamespace, signIn, signOut } from "./session.ts";

const screens = [
  { path: "inbox", title: "Inbox" },
  { path: "approvals", title: "Approvals" },
  { path: "runs", title: "Runs" },
  { path: "agents", title: "Agents" },
] as const;
type ScreenPath = (typeof screens)[number]["path"];

/** The screen a fragment names (`#/runs`), and the item after it (`#/runs/<id>`). */
interface Screen {
  readonly path: ScreenPath;
  readonly id?: string;
}

function screenOf(hash: string): Screen {
  const match = /^#\/([a-z]+)(?:\/([^/?#]+))?/.exec(hash);
  const path = screens.find((screen) => screen.path === match?.[1])?.path ?? "inbox";
  const id = match?.[2] === undefined ? undefined : decodeURIComponent(match[2]);
  return id === undefined ? { path } : { path, id };
}

function useScreen(): Screen {
  const [screen, setScreen] = useState(() => screenOf(window.location.hash));
  useEffect(() => {
    const changed = (): void => {
      setScreen(screenOf(window.location.hash));
    };
    window.addEventListener("hashchange", changed);
    return () => {
      window.removeEventListener("hashchange", changed);
    };
  }, []);
  return screen;
}

/** What `/console-config.json` says: how people sign in. */
interface ConsoleConfig {
  readonly oidc?: OidcConfig;
}

async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("/console-config.json");
  if (!response.ok) return {};
  return (await response.json()) as ConsoleConfig;
}

export function App() {
  const [token, setToken] = useState(currentToken);
  const [config, setConfig] = useState<ConsoleConfig>();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    const unmounted = new AbortController();
    const mounted = (): boolean => !unmounted.signal.aborted;
    void (async () => {
      const loaded = await loadConfig().catch((): ConsoleConfig => ({}));
      if (!mounted()) return;
      setConfig(loaded);
      if (loaded.oidc === undefined) return;
      try {
        const signedIn = await finishSignIn(loaded.oidc);
        if (signedIn !== undefined && mounted()) {
          signIn(signedIn);
          setToken(signedIn);
        }
      } catch (error) {
        if (mounted()) setProblem(error instanceof Error ? error.message : String(error));
      }
    })();
    return () => {
      unmounted.abort();
    };
  }, []);
  if (token === undefined) {
    if (config === undefined) return <p aria-busy="true">Loading…</p>;
    return (
      <SignIn
        config={config}
        problem={problem}
        onSignIn={(value) => {
          signIn(value);
          setToken(value);
        }}
      />
    );
  }
  return (
    <Signed
      token={token}
      onSignOut={(reason) => {
        signOut();
        setProblem(reason);
        setToken(undefined);
      }}
    />
  );
}

function SignIn({
  config,
  problem,
  onSignIn,
}: {
  readonly config: ConsoleConfig;
  readonly problem: string | undefined;
  readonly onSignIn: (token: string) => void;
}) {
  const [value, setValue] = useState("");
  const [starting, setStarting] = useState<string>();
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    if (value.trim() !== "") onSignIn(value.trim());
  };
  const { oidc } = config;
  return (
    <main className="sign-in">
      <h1>Freehold</h1>
      <Problem text={problem} />
      {oidc === undefined ? null : (
        <>
          <button
            type="button"
            onClick={() => {
              startSignIn(oidc).catch((error: unknown) => {
                setStarting(error instanceof Error ? error.message : String(error));
              });
            }}
          >
            Sign in with {new URL(oidc.issuer).host}
          </button>
          <Problem text={starting} />
          <p className="hint">Or use an access token:</p>
        </>
      )}
      <form onSubmit={submit}>
        <label htmlFor="token">Access token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(event) => {
            setValue(event.target.value);
          }}
        />
        <p className="hint">
          Under <code>freehold dev</code>, open the console link it prints: it signs you in.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function Signed({
  token,
  onSignOut,
}: {
  readonly token: string;
  readonly onSignOut: (reason?: string) => void;
}) {
  const screen = useScreen();
  const [namespace, setNamespace] = useState(savedNamespace);
  const client: FreeholdClient = useMemo(
    () =>
      createClient({
        url: window.location.origin,
        token,
        // A token the gateway no longer takes (expired, revoked): back to signing in, saying why.
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (response.status === 401) onSignOut("Your sign-in has ended: sign in again.");
          return response;
        },
      }),
    [token, onSignOut],
  );
  return (
    <>
      <header className="top">
        <span className="brand">Freehold</span>
        <nav aria-label="Screens">
          {screens.map((entry) => (
            <a
              key={entry.path}
              href={`#/${entry.path}`}
              aria-current={entry.path === screen.path ? "page" : undefined}
            >
              {entry.title}
            </a>
          ))}
        </nav>
        <label className="namespace">
          Namespace
          <input
            value={namespace}
            spellCheck={false}
            onChange={(event) => {
              setNamespace(event.target.value);
            }}
            onBlur={() => {
              saveNamespace(namespace);
            }}
          />
        </label>
        <button
          type="button"
          onClick={() => {
            onSignOut();
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {screen.path === "inbox" && <InboxScreen client={client} namespace={namespace} />}
        {screen.path === "approvals" && <ApprovalsScreen client={client} namespace={namespace} />}
        {screen.path === "runs" && screen.id === undefined && (
          <RunsScreen client={client} namespace={namespace} />
        )}
        {screen.path === "runs" && screen.id !== undefined && (
          <RunScreen key={screen.id} client={client} namespace={namespace} runId={screen.id} />
        )}
        {screen.path === "agents" && <AgentsScreen client={client} namespace={namespace} />}
      </main>
    </>
  );
}
