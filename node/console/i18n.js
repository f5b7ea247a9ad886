// i18n.js - every label of the console in Traditional Chinese and English.
// Keys are grouped by view; each engineer adds a view's keys in its own
// block, in both tables.
export const TABLES = {
  'zh-TW': {
    // shell
    'nav.signout': '登出',
    'zone.taipei': '台北時間',
    'clock.manual': '受控時鐘',
    'tier.agency': '機關', 'tier.city': '直轄市資訊局', 'tier.ministry': '中央主管機關',
    'tier.national': '國家資安中心', 'tier.office': '通報窗口',
    'role.viewer': '檢視者', 'role.reporter': '通報人員', 'role.reviewer': '審核人員', 'role.admin': '管理者',
    'login.title': '資安事件通報轉送主控台', 'login.name': '帳號', 'login.password': '密碼',
    'login.submit': '登入', 'login.wrong': '帳號或密碼錯誤', 'login.locked': '登入失敗次數過多，請稍後再試',
    'login.expired': '登入已逾時，請重新登入',
    'err.network': '無法連線到節點', 'err.field': '欄位 {field}：', 'err.not_allowed': '您的角色無法使用此畫面',
    'err.no_views': '沒有可用的畫面',
    'list.empty': '沒有資料',
    'span.d': '{n} 天', 'span.h': '{n} 小時', 'span.min': '{n} 分', 'span.s': '{n} 秒',
    'due.in': '剩 {span}', 'due.overdue_by': '已逾期 {span}', 'due.met_at': '已於 {at} 完成',
    'due.late_at': '逾期完成（{at}，晚 {by}）', 'due.missed': '未完成（已逾期）',
  },
  en: {
    'nav.signout': 'Sign out',
    'zone.taipei': 'Taipei time',
    'clock.manual': 'controlled clock',
    'tier.agency': 'agency', 'tier.city': 'city IT bureau', 'tier.ministry': 'ministry',
    'tier.national': 'national center', 'tier.office': 'office',
    'role.viewer': 'viewer', 'role.reporter': 'reporter', 'role.reviewer': 'reviewer', 'role.admin': 'admin',
    'login.title': 'Incident relay console', 'login.name': 'Name', 'login.password': 'Password',
    'login.submit': 'Sign in', 'login.wrong': 'Wrong name or password', 'login.locked': 'Too many failed sign-ins: try again later',
    'login.expired': 'Your session ended: sign in again',
    'err.network': 'Cannot reach the node', 'err.field': 'Field {field}:', 'err.not_allowed': 'Your role cannot open this view',
    'err.no_views': 'No view is available',
    'list.empty': 'Nothing to show',
    'span.d': '{n} d', 'span.h': '{n} h', 'span.min': '{n} min', 'span.s': '{n} s',
    'due.in': 'in {span}', 'due.overdue_by': 'overdue by {span}', 'due.met_at': 'met at {at}',
    'due.late_at': 'met late at {at} ({by} late)', 'due.missed': 'missed',
  },
};
