/**
 * Handlers typed per operation from the generated contract (src/api/generated), so the spec and the code
 * cannot drift: a handler's params, query and body are the operation's, and what it returns must be the
 * operation's success body.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { operations } from './generated/dcs-migration.ts';

export type Op = keyof operations;
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type PathOf<O extends Op> = operations[O]['parameters'] extends { path: infer P }
  ? P
  : Record<string, never>;
export type QueryOf<O extends Op> = operations[O]['parameters'] extends { query?: infer Q }
  ? NonNullable<Q>
  : never;
export type BodyOf<O extends Op> = operations[O] extends { requestBody: infer R } ? Json<R> : never;
export type SuccessOf<O extends Op> = operations[O]['responses'] extends { 200: infer R }
  ? Json<R>
  : undefined;

export interface Input<O extends Op> {
  params: PathOf<O>;
  query: QueryOf<O>;
  body: BodyOf<O>;
}

/** A handler answering 200 with the operation's body. */
export function json<O extends Op>(_op: O, fn: (input: Input<O>) => Promise<SuccessOf<O>>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    fn({ params: req.params, query: req.query, body: req.body } as unknown as Input<O>).then(
      (out) => res.status(200).json(out),
      next,
    );
  };
}

/** A handler answering 204 with no content. */
export function noContent<O extends Op>(_op: O, fn: (input: Input<O>) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    fn({ params: req.params, query: req.query, body: req.body } as unknown as Input<O>).then(
      () => res.status(204).end(),
      next,
    );
  };
}
