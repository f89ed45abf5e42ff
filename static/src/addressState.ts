// A page's state kept in the address (Back and Forward return to it, a link shares it), applied
// at once: the router commits its own update later, in a transition that other renders can keep
// interrupting under load, so a change made by a click is shown from the page's own state and
// the address follows; a change of the address from elsewhere (Back, Forward, a link) decides.
import { useState } from "react";
import { useSearchParams } from "react-router-dom";

export function useAddressState(): [URLSearchParams, (next: URLSearchParams) => void] {
  const [params, setParams] = useSearchParams();
  const address = params.toString();
  const [shown, setShown] = useState(address);
  const [lastAddress, setLastAddress] = useState(address);
  const [pushed, setPushed] = useState<string | null>(null);
  if (address !== lastAddress) {
    setLastAddress(address);
    if (address !== pushed) setShown(address); // not our own change: the address decides
    setPushed(null);
  }
  const change = (next: URLSearchParams) => {
    const text = next.toString();
    setShown(text);
    setPushed(text);
    setParams(next);
  };
  return [new URLSearchParams(shown), change];
}
