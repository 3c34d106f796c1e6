import type { IResolvers } from 'mercurius';
import { mutationResolvers } from './mutation.js';
import { queryResolvers } from './query.js';
import { DateTime, JSON_ } from './scalars.js';
import { webhookDeliveryResolvers, webhookMutationResolvers, webhookQueryResolvers } from './webhooks.js';

export const resolvers: IResolvers = {
  DateTime,
  JSON: JSON_,
  // Spreads of resolver maps: IResolvers types each as a union that a spread does not narrow.
  Query: { ...queryResolvers, ...webhookQueryResolvers } as IResolvers['Query'],
  Mutation: { ...mutationResolvers, ...webhookMutationResolvers } as IResolvers['Mutation'],
  WebhookDelivery: webhookDeliveryResolvers,
};
