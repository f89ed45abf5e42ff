// Who is signed in: loaded from /me (which also hands back the CSRF token after a reload).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { api, ApiError, onUnauthenticated, setCsrf, type Me } from "./api";

interface Session {
  me: Me | null;
  loading: boolean;
  /** The server forgot the session while the user was working (it expired, or was ended). */
  expired: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const Context = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [expired, setExpired] = useState(false);
  // a 401 from any call means the session is gone: back to the sign-in page, which returns the
  // user where they were
  useEffect(() => {
    onUnauthenticated(() => {
      if (client.getQueryData(["me"])) {
        setExpired(true);
        setCsrf(null);
        client.setQueryData(["me"], null);
      }
    });
    return () => onUnauthenticated(null);
  }, [client]);
  const me = useQuery({
    queryKey: ["me"],
    queryFn: async () => {
      try {
        const found = await api<Me>("/me");
        setCsrf(found.csrf_token);
        return found;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    retry: false,
  });
  const value: Session = {
    me: me.data ?? null,
    loading: me.isLoading,
    expired,
    login: async (username, password) => {
      const found = await api<Me>("/auth/login", { body: { username, password } });
      setCsrf(found.csrf_token);
      setExpired(false);
      client.setQueryData(["me"], found);
    },
    logout: async () => {
      await api<void>("/auth/logout", { method: "POST" });
      setCsrf(null);
      client.clear();
      client.setQueryData(["me"], null);
    },
  };
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): Session {
  const value = useContext(Context);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
