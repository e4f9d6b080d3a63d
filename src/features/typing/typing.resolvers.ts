import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const typingResolvers: Resolvers = {
  Mutation: {
    setTyping: (_, { roomId, typing }, { viewer, services }) => services.typing.set(requireViewer(viewer), roomId, typing),
  },
};
