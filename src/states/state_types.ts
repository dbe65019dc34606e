/**
 * Types that tie a {@linkcode State}'s arguments, lazy arguments and result
 * to its function's signature.
 *
 * @module
 */
import type { Node } from "../core/node.ts";

/** What a state runs: a node, or a function the state makes a node of. */
// deno-lint-ignore no-explicit-any
export type StateFunction = ((...args: any[]) => unknown) | Node<any, any>;

/** The parameters of a state's function (or node). */
export type StateParameters<F> =
  // deno-lint-ignore no-explicit-any
  F extends Node<infer A, any> ? A
    // deno-lint-ignore no-explicit-any
    : F extends (...args: infer A) => any ? A
    : unknown[];

/** What a state's run resolves to: its function's awaited return value. */
export type StateResult<F> =
  // deno-lint-ignore no-explicit-any
  F extends Node<any, infer R> ? Awaited<R>
    // deno-lint-ignore no-explicit-any
    : F extends (...args: any[]) => infer R ? Awaited<R>
    : unknown;

/** Callables giving the values of some parameters, possibly as promises. */
export type LazyArgs<T extends readonly unknown[]> = {
  readonly [K in keyof T]: () => T[K] | PromiseLike<T[K]>;
};

/**
 * The ways `args` and `lazyArgs` can fill a parameter list: `args` gives a
 * leading part, `lazyArgs` the rest. A parameter list of unknown length
 * (`...args: unknown[]`) accepts any arrays.
 */
export type ArgumentSplit<P extends readonly unknown[]> = number extends P["length"] ? {
    /** Arguments fixed when the state is made; passed first. */
    args?: readonly unknown[];
    /** Callables whose values follow `args`. */
    lazyArgs?: readonly (() => unknown)[];
  }
  : ArgumentSplits<P, []>;

/**
 * Every split of a fixed parameter list: `Done` already given by `args`,
 * `Rest` left to `lazyArgs`.
 */
export type ArgumentSplits<Rest extends readonly unknown[], Done extends readonly unknown[]> =
  | (
    & ([] extends Done ? { args?: readonly [] } : { args: readonly [...Done] })
    & ([] extends Rest ? { lazyArgs?: LazyArgs<Rest> } : { lazyArgs: LazyArgs<Rest> })
  )
  | (Rest extends readonly [infer H, ...infer R] ? ArgumentSplits<R, [...Done, H]> : never);
