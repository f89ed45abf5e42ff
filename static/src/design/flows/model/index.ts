export * from "./catalog";
export * from "./convert";
export * from "./layout";
export * from "./operations";
export * from "./pointers";
export * from "./types";
export { durationText, ruleText, rulesText, summary, type Names } from "./summary";
export * from "./trace";
export * from "./migration";
