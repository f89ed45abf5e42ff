export * from "./catalog";
export * from "./convert";
export * from "./history";
export * from "./keys";
export * from "./operations";
export * from "./pointers";
export * from "./types";
export * from "./serial";
