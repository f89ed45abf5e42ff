// A value that follows another once it has stopped changing: previews and suggestions wait for
// typing to pause instead of asking the server at every key.
import { useEffect, useState } from "react";

/** ``value`` once it has stayed the same for ``delay`` ms. */
export function useDebounced<T>(value: T, delay = 600): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}
