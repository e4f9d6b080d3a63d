import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { MutationResolvers } from '../generated/graphql.js';
import { enforce, type MutationLimitName } from './index.js';
import type { RateLimiter } from './rate-limits.js';

/**
 * Which per-user limit each Mutation field's calls count against: every
 * field of the schema has a line, so a mutation added later is limited the
 * day it lands (typecheck fails without its line, and so does buildSchema).
 * `none` only where the field limits itself otherwise: register and login
 * count per client IP and per username in the users service.
 */
export const MUTATION_LIMITS: { readonly [Field in keyof Required<MutationResolvers>]: MutationLimitName | 'none' } = {
  register: 'none',
  login: 'none',
  refreshToken: 'refresh',
  createRoom: 'rooms',
  joinRoom: 'rooms',
  leaveRoom: 'rooms',
  inviteToRoom: 'rooms',
  openDirectRoom: 'rooms',
  sendMessage: 'send',
  createUpload: 'send',
  editMessage: 'edit',
  deleteMessage: 'edit',
  addReaction: 'react',
  removeReaction: 'react',
  markRead: 'read',
  setRoomNotifications: 'read',
  registerPushSubscription: 'read',
  unregisterPushSubscription: 'read',
  markThreadRead: 'read',
  subscribeThread: 'read',
  unsubscribeThread: 'read',
  setTyping: 'typing',
  setMemberRole: 'moderation',
  kickMember: 'moderation',
  banMember: 'moderation',
  unbanMember: 'moderation',
  muteMember: 'moderation',
  updateRoom: 'moderation',
  pinMessage: 'moderation',
  unpinMessage: 'moderation',
  resolveReport: 'moderation',
  reportMessage: 'reports',
  blockUser: 'blocks',
  unblockUser: 'blocks',
};

/** What the wrapper reads of an operation's context: who is asking. */
interface ViewerContext {
  readonly viewer: { readonly userId: string } | null;
}

/**
 * Puts each Mutation field behind its limit (MUTATION_LIMITS): a call by a
 * signed-in user spends a point of theirs before the resolver runs, so every
 * call counts, aliased ones, idempotent repeats and ones that fail later
 * included, and one over the limit is RATE_LIMITED (with retryAfter) having
 * done nothing. A call without a viewer goes on to its resolver, which
 * answers UNAUTHENTICATED. Without `limiters` (a schema only validated
 * against, as tests do) the table is still checked against the schema.
 */
export function limitMutations(schema: GraphQLSchema, limiters?: Readonly<Record<MutationLimitName, RateLimiter>>): void {
  const table: Readonly<Record<string, MutationLimitName | 'none' | undefined>> = MUTATION_LIMITS;
  const fields = schema.getMutationType()?.getFields() ?? {};
  for (const [name, field] of Object.entries(fields)) {
    const limit = table[name];
    if (limit === undefined) throw new Error(`Mutation.${name} has no line in MUTATION_LIMITS (src/limits/mutation-limits.ts)`);
    if (limit === 'none' || !limiters) continue;
    const limiter = limiters[limit];
    const resolve: GraphQLFieldResolver<unknown, ViewerContext> = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, context: ViewerContext, info) => {
      if (context.viewer) await enforce(limiter, context.viewer.userId);
      return resolve(source, args, context, info);
    };
  }
}
