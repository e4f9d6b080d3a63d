/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Register($input: CredentialsInput!) {\n  register(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation Login($input: CredentialsInput!) {\n  login(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation RefreshToken {\n  refreshToken {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    ...UserFields\n  }\n}": typeof types.RegisterDocument,
    "subscription RoomEvents($roomId: ID!) {\n  roomEvents(roomId: $roomId) {\n    __typename\n    ... on MessageChanged {\n      messageChange: change\n      message {\n        ...MessageFields\n      }\n    }\n    ... on MemberChanged {\n      memberChange: change\n      roomId\n      user {\n        ...UserFields\n      }\n    }\n    ... on TypingChanged {\n      roomId\n      typing\n      user {\n        ...UserFields\n      }\n    }\n    ... on ReadReceipt {\n      roomId\n      seq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nsubscription MyEvents {\n  myEvents {\n    __typename\n    ... on NewMessage {\n      message {\n        ...MessageFields\n      }\n    }\n    ... on RoomAdded {\n      room {\n        ...RoomFields\n      }\n    }\n    ... on RoomRemoved {\n      roomId\n    }\n  }\n}": typeof types.RoomEventsDocument,
    "fragment UserFields on User {\n  id\n  username\n  online\n}\n\nfragment MessageFields on Message {\n  id\n  roomId\n  seq\n  body\n  clientId\n  createdAt\n  editedAt\n  deletedAt\n  cursor\n  author {\n    ...UserFields\n  }\n  replyTo {\n    id\n    seq\n  }\n}\n\nfragment RoomFields on Room {\n  id\n  kind\n  visibility\n  name\n  createdAt\n  unreadCount\n  lastReadSeq\n  lastMessage {\n    ...MessageFields\n  }\n}": typeof types.UserFieldsFragmentDoc,
    "query Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nmutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    ...MessageFields\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}": typeof types.MessagesDocument,
    "query MyRooms {\n  myRooms {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n    members {\n      role\n      joinedAt\n      lastReadSeq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nmutation MarkRead($roomId: ID!, $seq: Int!) {\n  markRead(roomId: $roomId, seq: $seq) {\n    id\n    unreadCount\n    lastReadSeq\n  }\n}": typeof types.MyRoomsDocument,
};
const documents: Documents = {
    "mutation Register($input: CredentialsInput!) {\n  register(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation Login($input: CredentialsInput!) {\n  login(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation RefreshToken {\n  refreshToken {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    ...UserFields\n  }\n}": types.RegisterDocument,
    "subscription RoomEvents($roomId: ID!) {\n  roomEvents(roomId: $roomId) {\n    __typename\n    ... on MessageChanged {\n      messageChange: change\n      message {\n        ...MessageFields\n      }\n    }\n    ... on MemberChanged {\n      memberChange: change\n      roomId\n      user {\n        ...UserFields\n      }\n    }\n    ... on TypingChanged {\n      roomId\n      typing\n      user {\n        ...UserFields\n      }\n    }\n    ... on ReadReceipt {\n      roomId\n      seq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nsubscription MyEvents {\n  myEvents {\n    __typename\n    ... on NewMessage {\n      message {\n        ...MessageFields\n      }\n    }\n    ... on RoomAdded {\n      room {\n        ...RoomFields\n      }\n    }\n    ... on RoomRemoved {\n      roomId\n    }\n  }\n}": types.RoomEventsDocument,
    "fragment UserFields on User {\n  id\n  username\n  online\n}\n\nfragment MessageFields on Message {\n  id\n  roomId\n  seq\n  body\n  clientId\n  createdAt\n  editedAt\n  deletedAt\n  cursor\n  author {\n    ...UserFields\n  }\n  replyTo {\n    id\n    seq\n  }\n}\n\nfragment RoomFields on Room {\n  id\n  kind\n  visibility\n  name\n  createdAt\n  unreadCount\n  lastReadSeq\n  lastMessage {\n    ...MessageFields\n  }\n}": types.UserFieldsFragmentDoc,
    "query Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nmutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    ...MessageFields\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}": types.MessagesDocument,
    "query MyRooms {\n  myRooms {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n    members {\n      role\n      joinedAt\n      lastReadSeq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nmutation MarkRead($roomId: ID!, $seq: Int!) {\n  markRead(roomId: $roomId, seq: $seq) {\n    id\n    unreadCount\n    lastReadSeq\n  }\n}": types.MyRoomsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Register($input: CredentialsInput!) {\n  register(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation Login($input: CredentialsInput!) {\n  login(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation RefreshToken {\n  refreshToken {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    ...UserFields\n  }\n}"): (typeof documents)["mutation Register($input: CredentialsInput!) {\n  register(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation Login($input: CredentialsInput!) {\n  login(input: $input) {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nmutation RefreshToken {\n  refreshToken {\n    token\n    user {\n      ...UserFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    ...UserFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription RoomEvents($roomId: ID!) {\n  roomEvents(roomId: $roomId) {\n    __typename\n    ... on MessageChanged {\n      messageChange: change\n      message {\n        ...MessageFields\n      }\n    }\n    ... on MemberChanged {\n      memberChange: change\n      roomId\n      user {\n        ...UserFields\n      }\n    }\n    ... on TypingChanged {\n      roomId\n      typing\n      user {\n        ...UserFields\n      }\n    }\n    ... on ReadReceipt {\n      roomId\n      seq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nsubscription MyEvents {\n  myEvents {\n    __typename\n    ... on NewMessage {\n      message {\n        ...MessageFields\n      }\n    }\n    ... on RoomAdded {\n      room {\n        ...RoomFields\n      }\n    }\n    ... on RoomRemoved {\n      roomId\n    }\n  }\n}"): (typeof documents)["subscription RoomEvents($roomId: ID!) {\n  roomEvents(roomId: $roomId) {\n    __typename\n    ... on MessageChanged {\n      messageChange: change\n      message {\n        ...MessageFields\n      }\n    }\n    ... on MemberChanged {\n      memberChange: change\n      roomId\n      user {\n        ...UserFields\n      }\n    }\n    ... on TypingChanged {\n      roomId\n      typing\n      user {\n        ...UserFields\n      }\n    }\n    ... on ReadReceipt {\n      roomId\n      seq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nsubscription MyEvents {\n  myEvents {\n    __typename\n    ... on NewMessage {\n      message {\n        ...MessageFields\n      }\n    }\n    ... on RoomAdded {\n      room {\n        ...RoomFields\n      }\n    }\n    ... on RoomRemoved {\n      roomId\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment UserFields on User {\n  id\n  username\n  online\n}\n\nfragment MessageFields on Message {\n  id\n  roomId\n  seq\n  body\n  clientId\n  createdAt\n  editedAt\n  deletedAt\n  cursor\n  author {\n    ...UserFields\n  }\n  replyTo {\n    id\n    seq\n  }\n}\n\nfragment RoomFields on Room {\n  id\n  kind\n  visibility\n  name\n  createdAt\n  unreadCount\n  lastReadSeq\n  lastMessage {\n    ...MessageFields\n  }\n}"): (typeof documents)["fragment UserFields on User {\n  id\n  username\n  online\n}\n\nfragment MessageFields on Message {\n  id\n  roomId\n  seq\n  body\n  clientId\n  createdAt\n  editedAt\n  deletedAt\n  cursor\n  author {\n    ...UserFields\n  }\n  replyTo {\n    id\n    seq\n  }\n}\n\nfragment RoomFields on Room {\n  id\n  kind\n  visibility\n  name\n  createdAt\n  unreadCount\n  lastReadSeq\n  lastMessage {\n    ...MessageFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nmutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    ...MessageFields\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}"): (typeof documents)["query Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nmutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    ...MessageFields\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyRooms {\n  myRooms {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n    members {\n      role\n      joinedAt\n      lastReadSeq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nmutation MarkRead($roomId: ID!, $seq: Int!) {\n  markRead(roomId: $roomId, seq: $seq) {\n    id\n    unreadCount\n    lastReadSeq\n  }\n}"): (typeof documents)["query MyRooms {\n  myRooms {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n    members {\n      role\n      joinedAt\n      lastReadSeq\n      user {\n        ...UserFields\n      }\n    }\n  }\n}\n\nmutation MarkRead($roomId: ID!, $seq: Int!) {\n  markRead(roomId: $roomId, seq: $seq) {\n    id\n    unreadCount\n    lastReadSeq\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;