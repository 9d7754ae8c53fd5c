import type { Catalogue } from './en.js'

// Brazilian Portuguese. `{app}` never follows "a", "de", "em" (which would need "ao", "do", "no" before
// "o seu app"): only "com" and "para", which read right before a name and before the fallback.
export const ptBR: Catalogue = {
  'app.fallback': 'o seu app',
  'page.nextStep': 'O que fazer agora',
  'page.logoAlt': 'Logo do app',

  'connected.heading': 'O Raven está conectado com {app}',
  'connected.body': 'Agora {app} pode usar os seus dados do Raven. Não precisa fazer mais nada.',
  'connected.next': 'Feche esta página e volte para {app}.',
  'pending.heading': 'Quase pronto',
  'pending.body': 'O Raven aceitou. Ainda estamos salvando a conexão; isso costuma levar menos de um minuto.',
  'pending.next': 'Feche esta página e volte para {app}. Em breve o Raven vai aparecer como conectado.',

  'reason.access_denied.heading': 'O Raven não foi conectado',
  'reason.access_denied.body': 'Você não autorizou o acesso no Raven. Nada foi compartilhado.',
  'reason.access_denied.next': 'Mudou de ideia? Volte para {app} e conecte o Raven de novo.',
  'reason.raven_error.heading': 'O Raven não conseguiu concluir',
  'reason.raven_error.body': 'O Raven teve um problema durante o seu login. Nada foi alterado.',
  'reason.raven_error.next': 'Volte para {app} e tente de novo em alguns minutos.',
  'reason.expired.heading': 'O tempo desta tentativa acabou',
  'reason.expired.body': 'O login levou mais de 15 minutos, ou o seu navegador não guardou o nosso cookie.',
  'reason.expired.next': 'Volte para {app} e conecte o Raven de novo.',
  'reason.invalid_request.heading': 'Este link não funciona mais',
  'reason.invalid_request.body': 'Esta conexão já foi concluída, ou o link foi alterado ou aberto em outro navegador.',
  'reason.invalid_request.next': 'Volte para {app} e conecte o Raven de novo.',
  'reason.token_exchange_failed.heading': 'O Raven não confirmou a conexão',
  'reason.token_exchange_failed.body': 'O Raven recusou concluir a conexão. Nada foi salvo.',
  'reason.token_exchange_failed.next': 'Volte para {app} e conecte o Raven de novo.',
  'reason.no_refresh_token.heading': 'O Raven não liberou o acesso contínuo',
  'reason.no_refresh_token.body': 'Para manter os seus dados sincronizados, é preciso acesso contínuo (offline), e o Raven não o liberou.',
  'reason.no_refresh_token.next': 'Volte para {app}, conecte o Raven de novo e autorize todos os acessos pedidos.',
  'reason.leaf_rejected.heading': 'Não foi possível salvar a conexão',
  'reason.leaf_rejected.body': 'O Raven foi conectado, mas a conexão não pôde ser guardada.',
  'reason.leaf_rejected.next': 'Fale com o suporte e informe o código leaf_rejected.',
  'reason.server_error.heading': 'Algo deu errado do nosso lado',
  'reason.server_error.body': 'Não foi possível concluir a conexão. Nada foi alterado.',
  'reason.server_error.next': 'Volte para {app} e tente de novo em alguns minutos.',

  'link.expired.heading': 'Este link expirou ou já foi usado',
  'link.expired.body': 'Por segurança, os links de conexão funcionam uma vez só e por poucos minutos.',
  'link.expired.next': 'Volte para {app} e conecte o Raven de novo para receber um link novo.',
  'link.missing.heading': 'Este link está incompleto',
  'link.missing.body': 'Falta uma parte do link. Talvez ele tenha sido cortado ao ser copiado.',
  'link.missing.next': 'Volte para {app} e conecte o Raven de novo para receber um link novo.',

  'unavailable.heading': 'Não é possível conectar o Raven agora',
  'unavailable.body': 'Nada foi alterado.',
  'unavailable.next': 'Volte para {app} e tente de novo em um minuto.',

  'error.notFound.heading': 'Página não encontrada',
  'error.badRequest.heading': 'Não foi possível atender este pedido',
  'error.server.heading': 'Algo deu errado do nosso lado',
  'error.body': 'Nada foi alterado.',
  'error.next': 'Volte para {app} e tente de novo.',
}
