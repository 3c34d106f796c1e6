import type { IResolvers } from 'mercurius';
import { mutationResolvers } from './mutation.js';
import { queryResolvers } from './query.js';
import { DateTime, JSON_ } from './scalars.js';

export const resolvers: IResolvers = {
  DateTime,
  JSON: JSON_,
  Query: queryResolvers,
  Mutation: mutationResolvers,
};
