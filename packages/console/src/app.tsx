/**
 * The console's frame: sign-in, the namespace, and the screens (Inbox, Approvals, Agents), chosen by
 * the URL's fragment (`#/approvals`) so that the gateway serves one page at `/`.
 *
 * @module
 */
import { createClient, type FreeholdClient } from "@freehold/sdk/client";
import { useEffect, useMemo, useState, type SyntheticEvent } from "react";
import { AgentsScreen } from "./screens/agents.tsx";
import { ApprovalsScreen } from "./screens/approvals.tsx";
import { InboxScreen } from "./screens/inbox.tsx";
import { currentToken, saveNamespace, savedNamespace, signIn, signOut } from "./session.ts";

const screens = [
  { path: "inbox", title: "Inbox" },
  { path: "approvals", title: "Approvals" },
  { path: "agents", title: "Agents" },
] as const;
type ScreenPath = (typeof screens)[number]["path"];

function screenOf(hash: string): ScreenPath {
  const path = /^#\/([a-z]+)/.exec(hash)?.[1];
  return screens.find((screen) => screen.path === path)?.path ?? "inbox";
}

function useScreen(): ScreenPath {
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

export function App() {
  const [token, setToken] = useState(currentToken);
  if (token === undefined) {
    return (
      <SignIn
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
      onSignOut={() => {
        signOut();
        setToken(undefined);
      }}
    />
  );
}

function SignIn({ onSignIn }: { readonly onSignIn: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    if (value.trim() !== "") onSignIn(value.trim());
  };
  return (
    <main className="sign-in">
      <h1>Freehold</h1>
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

function Signed({ token, onSignOut }: { readonly token: string; readonly onSignOut: () => void }) {
  const screen = useScreen();
  const [namespace, setNamespace] = useState(savedNamespace);
  const client: FreeholdClient = useMemo(() => createClient({ url: window.location.origin, token }), [token]);
  return (
    <>
      <header className="top">
        <span className="brand">Freehold</span>
        <nav aria-label="Screens">
          {screens.map((entry) => (
            <a
              key={entry.path}
              href={`#/${entry.path}`}
              aria-current={entry.path === screen ? "page" : undefined}
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
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {screen === "inbox" && <InboxScreen client={client} namespace={namespace} />}
        {screen === "approvals" && <ApprovalsScreen client={client} namespace={namespace} />}
        {screen === "agents" && <AgentsScreen client={client} namespace={namespace} />}
      </main>
    </>
  );
}
