import { archiveMissedChats } from '../../app/models/chat.server'
import { chatRooms } from '../chat-rooms'
import type { Job } from './run-jobs'
import { EVERY_TEN_MINUTES } from './schedules'

/**
 * Archives the chat of ended sessions that were not archived when they ended (ended by the
 * abandoned-session job or an account deletion, or an archive that failed), and clears their objects.
 */
export const archiveChats: Job = {
  name: 'archive-chats',
  crons: [EVERY_TEN_MINUTES],
  async run({ db, bindings }) {
    return { ...(await archiveMissedChats(db, chatRooms(bindings))) }
  },
}
