import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { ModerationEventPayload } from './moderation.mappers.js';

export const moderationResolvers: Resolvers = {
  Query: {
    moderationLog: (_, { roomId, first, before }, { viewer, services }) =>
      services.moderation.log(requireViewer(viewer), roomId, first, before),
  },
  Mutation: {
    setMemberRole: (_, { roomId, userId, role }, { viewer, services }) =>
      services.moderation.setRole(requireViewer(viewer), roomId, userId, role),
    kickMember: (_, { roomId, userId, reason }, { viewer, services }) =>
      services.moderation.kick(requireViewer(viewer), roomId, userId, reason),
    banMember: (_, { roomId, userId, reason, durationSeconds }, { viewer, services }) =>
      services.moderation.ban(requireViewer(viewer), roomId, userId, reason, durationSeconds),
    unbanMember: (_, { roomId, userId }, { viewer, services }) =>
      services.moderation.unban(requireViewer(viewer), roomId, userId),
    muteMember: (_, { roomId, userId, durationSeconds, reason }, { viewer, services }) =>
      services.moderation.mute(requireViewer(viewer), roomId, userId, durationSeconds, reason),
    updateRoom: (_, { input }, { viewer, services }) => services.moderation.updateRoom(requireViewer(viewer), input),
  },
  Room: {
    viewerRole: async (room, _, { loaders }) => (await loaders.viewerMembership.load(room.id))?.role ?? null,
    viewerMutedUntil: async (room, _, { loaders, services }) =>
      services.moderation.mutedUntil(await loaders.viewerMembership.load(room.id)),
    bans: (room, _, { viewer, services }) => services.moderation.bans(requireViewer(viewer), room),
  },
  RoomMember: {
    mutedUntil: (member, _, { services }) => services.moderation.mutedUntil(member),
  },
  Message: {
    deletedBy: (message, _, { loaders }) => (message.deletedBy ? loaders.user.load(message.deletedBy) : null),
  },
  RoomBan: {
    user: async (ban, _, { loaders }) => (await loaders.user.load(ban.userId))!,
    bannedBy: async (ban, _, { loaders }) => (await loaders.user.load(ban.bannedBy))!,
  },
  ModerationAction: {
    actor: async (action, _, { loaders }) => (await loaders.user.load(action.actorId))!,
    target: (action, _, { loaders }) => (action.targetId ? loaders.user.load(action.targetId) : null),
    message: (action, _, { loaders }) => (action.messageId ? loaders.message.load(action.messageId) : null),
  },
  ModerationEvent: {
    action: async (event: ModerationEventPayload, _, { loaders }) => (await loaders.moderationAction.load(event.actionId))!,
  },
};
