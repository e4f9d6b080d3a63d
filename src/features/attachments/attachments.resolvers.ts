import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const attachmentsResolvers: Resolvers = {
  Mutation: {
    createUpload: (_, { input }, { viewer, services }) => services.attachments.createUpload(requireViewer(viewer), input),
  },
  Message: {
    // A message is only ever resolved for those who may read it (history, live events, search): so are its files.
    attachments: (message, _, { loaders }) => (message.deletedAt ? [] : loaders.attachments.load(message.id)),
  },
  Attachment: {
    url: (upload, _, { services }) => services.attachments.url(upload),
    thumbnailUrl: (upload, _, { services }) => (upload.thumbnailKey ? services.attachments.url(upload, true) : null),
  },
};
