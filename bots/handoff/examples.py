"""Labelled example messages the semantic hand-off detector compares a message with.

Written for this project (none comes from an evaluation set: the held-out sets in
benchmarks/handoff/ are kept apart from these). ASKS ask for a person, in many languages and
many indirect ways. NOT_ASKS are the hard cases that mention staff, people or bots without
asking for one ("no need for a person", "is the manager nice?", "human resources"), plus
ordinary support questions, so an ordinary question has a close neighbour that is not an ask.
"""

from __future__ import annotations


def _lines(block: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in block.strip().splitlines() if line.strip())


ASKS: dict[str, tuple[str, ...]] = {
    "en": _lines("""
        can somebody from your side look into this?
        is there a number where I can talk to real people?
        I'd like to talk to a human on the phone
        could a person phone me about this
        which of your people can I talk to?
        I just want to talk to a human being
        ask someone on your team to get in touch with me
        let me talk to the person in charge of refunds
        I'm fed up with automatic replies, I want a person
        enough with the robot, get me someone real
        I want this handled by a human
        could a supervisor step in?
        can a manager look at my case?
        I'd like to chat with somebody from customer service
        please link me to a live representative
        I need to talk to somebody about this
        is anyone human available right now?
        a real human please, it's urgent
        can your support team reach out to me?
        switch me over to a live agent
        I'd like one of your employees to phone me
        I'd prefer to explain it to someone
        is there any way to talk to a real person?
        someone needs to call me about this
        I want to talk to people, not software
        are there humans working on the chat?
        please pass me to someone who can actually help
        I want to talk to an expert from your team
        I want to be put in touch with a staff member
        is there someone I could call at your company?
        please let me talk to one of your employees
        can I chat with a worker there?
        redirect me to a support person
        could I speak with somebody in charge?
        I'd like a callback from your team
        can you get your boss for me?
        can I talk to a real person
        I want to speak to a human
        get me a human please
        connect me to an agent
        transfer me to customer support
        is there a person I can chat with?
        I'd like to speak with someone from your team
        let me talk to a representative
        can a human take over this chat?
        I need a real person, not a bot
        I don't want to talk to a bot
        stop, I want a human
        you're not helping, get me a person
        can someone from support contact me?
        please have an agent call me back
        can you pass me to your staff?
        I want to chat with a live agent
        human support please
        is there anyone from the team available?
        how do I reach a real person?
        can you forward my question to a person?
        send me to your support team
        I'd prefer talking to an actual employee
        speak to someone
        can I get help from a person instead?
        let a human handle this
        I'd rather deal with a person
        can I have a word with a staff member?
        bring a human into this conversation
        are there people I can talk to there?
        do you have a human I can talk to?
        I want human help
        give me someone real
        no more bot, a person please
        your bot is useless, I want an operator
        put a person on the line
        can you escalate me to a supervisor?
        I need to talk to the manager
        please connect me with your colleagues
        can a member of your team help me?
        transfer this chat to a human agent
        I want to speak with customer service
        is a human there?
        can I talk to someone on your team about this?
        I need a person to look at my case
        hand me over to support
        get me to a real human
        connect me with a human being please
        is any of your staff online right now?
        I'd like to speak to one of your advisors
        could a specialist from your side help me with this?
        hello, is there a real person there?
        I want someone from your company to deal with my complaint
        is there a phone number where a person answers?
        no more automated replies, I need real help
        get me somebody who works there
    """),
    "es": _lines("""
        ¿me puede atender alguien de carne y hueso?
        quiero que me llame un empleado
        póngame con un responsable
        necesito ayuda de una persona, no de una máquina
        quiero hablar con una persona
        pásame con un agente
        necesito hablar con un humano
        ¿puedo hablar con alguien del equipo?
        comunícame con atención al cliente
        no quiero hablar con un bot
        quiero un asesor humano
        ¿hay alguien con quien pueda hablar?
        transfiéreme a un operador
        que me atienda una persona real
    """),
    "fr": _lines("""
        je préfère parler à une vraie personne
        est-ce qu'un employé peut me rappeler ?
        j'aimerais joindre votre service client
        pas de robot, un humain
        je veux parler à un humain
        passez-moi un conseiller
        je voudrais parler à quelqu'un de votre équipe
        mettez-moi en relation avec le service client
        je ne veux pas parler à un robot
        est-ce qu'une vraie personne peut m'aider ?
        transférez-moi à un agent
        un humain svp
        je veux un vrai conseiller
        je peux parler à une personne ?
    """),
    "de": _lines("""
        ich möchte lieber mit einer Person sprechen
        kann mich jemand vom Kundenservice anrufen?
        stellen Sie mich bitte zu einem Mitarbeiter durch
        kein Bot bitte, ein Mensch
        ich möchte mit einem Menschen sprechen
        verbinden Sie mich mit einem Mitarbeiter
        kann ich mit jemandem aus dem Team reden?
        ich will keinen Bot, ich will eine echte Person
        bitte leiten Sie mich an den Kundendienst weiter
        gibt es einen Mitarbeiter, mit dem ich sprechen kann?
        ich brauche einen echten Menschen
        kann mich ein Mitarbeiter zurückrufen?
        holen Sie bitte einen Menschen
        ich möchte mit dem Support sprechen
    """),
    "pt": _lines("""
        prefiro falar com um humano
        alguém da equipe pode me ligar?
        quero ser atendido por uma pessoa
        chega de robô, quero um atendente
        quero falar com um atendente
        me transfere para uma pessoa
        preciso falar com um humano
        posso falar com alguém da equipe?
        não quero falar com robô
        quero atendimento humano
        me passa para o suporte
        tem alguém para me atender?
        quero falar com uma pessoa de verdade
        me coloca em contato com um agente
    """),
    "it": _lines("""
        preferisco parlare con una persona
        qualcuno del servizio clienti può chiamarmi?
        passami un operatore per favore
        basta bot, voglio un umano
        voglio parlare con un operatore
        mi passi una persona
        posso parlare con qualcuno del team?
        non voglio parlare con un bot
        vorrei un operatore umano
        mettimi in contatto con l'assistenza clienti
        c'è qualcuno con cui posso parlare?
        ho bisogno di una persona vera
        trasferiscimi a un agente
        voglio parlare con un essere umano
    """),
    "nl": _lines("""
        ik praat liever met een persoon
        kunt u me doorverbinden met een medewerker?
        ik wil de helpdesk spreken
        geen chatbot alstublieft, een mens
        kan ik iemand van de klantenservice spreken?
        ik wil met een mens praten
        kan ik een medewerker spreken?
        verbind me door met de klantenservice
        ik wil geen bot, ik wil een echt persoon
        kan iemand van het team me helpen?
        mag ik iemand aan de lijn?
        ik wil graag een medewerker
        zet me door naar een echte persoon
        kan er iemand contact met me opnemen?
        is er een medewerker beschikbaar?
    """),
    "ja": _lines("""
        人間のスタッフと話せますか
        担当者に代わってもらえますか
        チャットボットではなく人に聞きたい
        有人のサポートはありますか
        カスタマーサポートの方と話したい
        人に対応してほしいです
        人と話したいです
        オペレーターにつないでください
        担当者と話せますか
        ボットではなく人間と話したい
        スタッフに代わってください
        有人対応をお願いします
        担当の方に連絡してもらえますか
        サポートの人につないで
        人間のオペレーターをお願いします
        誰か人と話せませんか
    """),
    "zh": _lines("""
        我想跟人工客服说
        能帮我接通真人吗
        别让机器人回答了，找个人来
        有没有真人可以聊
        麻烦让客服联系我
        我需要人工帮助
        我要找人工
        转人工
        我想和真人说话
        请帮我联系客服人员
        我不想跟机器人聊
        能让工作人员来处理吗
        有人工服务吗
        给我接一个客服
        我要跟你们的员工谈
        请转接人工坐席
    """),
    "ko": _lines("""
        사람 상담원이랑 얘기하고 싶어요
        직원분 바꿔 주실 수 있나요
        챗봇 말고 사람 불러 주세요
        상담사랑 직접 통화하고 싶습니다
        고객센터 연결 부탁해요
        사람과 이야기하고 싶어요
        상담사 연결 부탁드립니다
        직원과 통화하고 싶어요
        봇 말고 사람이랑 얘기할래요
        담당자 바꿔 주세요
        실제 사람과 상담할 수 있나요
        고객센터 직원 연결해 줘
        사람 상담원 불러 주세요
    """),
    "ru": _lines("""
        можно мне оператора?
        переведите на живого человека
        хочу пообщаться с менеджером
        бот бесполезен, нужен человек
        свяжите меня с сотрудником
        хочу поговорить с человеком
        соедините меня с оператором
        позовите живого сотрудника
        можно связаться с менеджером?
        не хочу общаться с ботом
        переключите на специалиста поддержки
        дайте мне настоящего человека
        мне нужен оператор
    """),
    "pl": _lines("""
        chcę rozmawiać z prawdziwym człowiekiem
        czy mogę prosić konsultanta?
        przełącz mnie do pracownika obsługi
        bot mi nie pomaga, poproszę człowieka
        chcę pogadać z kimś z waszej firmy
        chcę porozmawiać z człowiekiem
        połącz mnie z konsultantem
        czy mogę porozmawiać z pracownikiem?
        nie chcę rozmawiać z botem
        poproszę prawdziwą osobę
        przekieruj mnie do obsługi klienta
        potrzebuję kontaktu z człowiekiem
        czy jest ktoś z zespołu dostępny?
    """),
    "tr": _lines("""
        gerçek bir insanla görüşmek istiyorum
        müşteri hizmetlerine bağlanmak istiyorum
        bot yerine bir insan lütfen
        bir temsilciyle konuşabilir miyim
        beni yetkiliye aktarır mısınız
        bir insanla konuşmak istiyorum
        beni müşteri temsilcisine bağlayın
        gerçek bir kişiyle görüşebilir miyim?
        botla konuşmak istemiyorum
        canlı destek istiyorum
        yetkili biriyle görüşmek istiyorum
        beni bir çalışana aktarın
        temsilciye bağlar mısınız
    """),
    "sv": _lines("""
        kan jag få prata med en person?
        jag vill bli kopplad till en anställd
        inte en bot, en riktig människa tack
        kan ni koppla mig till kundtjänst?
        kan någon i personalen hjälpa mig?
        jag vill prata med en människa
        koppla mig till en handläggare
        kan jag få prata med någon på kundtjänst?
        jag vill inte prata med en bot
        kan en riktig person hjälpa mig?
        jag vill prata med personalen
        koppla mig vidare till support
        finns det någon jag kan prata med?
    """),
    "ar": _lines("""
        أريد التحدث مع إنسان
        هل يمكن توصيلي بموظف؟
        لا أريد الروبوت، حولني لشخص
        أحتاج ممثل خدمة العملاء
        ممكن أتكلم مع أحد من الدعم؟
        أريد التحدث مع شخص حقيقي
        حولني إلى موظف خدمة العملاء
        هل يمكنني التحدث مع أحد الموظفين؟
        لا أريد التحدث مع روبوت
        أحتاج إلى مساعدة من إنسان
        أريد التواصل مع ممثل
        وصلني بالدعم الفني
        أريد موظفا
    """),
    "hi": _lines("""
        mujhe kisi human se baat karni hai
        kya aap mujhe agent se connect kar sakte ho
        bot nahi, insaan chahiye
        customer support wale se baat karao please
        kisi executive se baat karni hai
        mujhe kisi insaan se baat karni hai
        kisi agent se baat karao
        customer care se connect karo
        mujhe bot se baat nahi karni
        kya main kisi real person se baat kar sakta hoon
        mujhe support team se baat karni hai
        kisi staff member ko bulao
        mujhe executive se connect karwa do
    """),
}

NOT_ASKS: dict[str, tuple[str, ...]] = {
    "en": _lines("""
        I need assistance with my order
        I want help filing a complaint
        can you help me make a claim?
        I need support to change my address
        I want assistance to cancel my purchase
        help me get my money back
        I want to make a customer complaint
        I need help removing an item from my cart
        I need help with my account settings
        can you help me with a problem?
        I need assistance please
        help me please
        I need some help
        what is a customer service representative?
        I want to work in customer service
        how do I call someone from my phone?
        how do I set up a call with my team in the app?
        my team needs more seats on the plan
        can I chat with my friends in the app?
        where can I talk to other users, is there a forum?
        is the phone line free to call?
        do real people read the reviews?
        the person who delivered was late
        can I speak to you in Italian?
        help me with my transfer
        I have a pending transfer
        I want to transfer money into my account
        connect to my phone
        connect the app to my device
        speak up
        speak louder please
        stop talking
        who am I speaking with?
        are you human?
        could you be a real person?
        am I chatting with a real person?
        I need assistance getting my money back
        can you help me file a complaint?
        I want help to remove something from my order
        I want support updating my delivery address
        please call me by my first name
        can you repeat that?
        I appreciate your help
        nice talking to you
        who is my representative in congress?
        how can I get help for my mental health?
        can you assist me with top up?
        what is your customer support email?
        what is the support phone number?
        how do I report a problem with an item?
        I want to talk about something else
        who works on your team?
        my manager asked me to check the invoice
        can I add my colleague to the account?
        I am the owner of the account
        let me think about it
        no need for a person, thanks
        I don't need an agent, just the opening hours
        am I talking to a bot?
        are you a real person?
        is this a human or a machine?
        how do I contact human resources?
        what does a support agent earn?
        is the manager nice?
        my travel agent booked this for me
        I spoke to someone yesterday and they said it was fixed
        your staff were very friendly
        thanks to the person who helped me last time
        the agent already solved it
        I am a real estate agent
        can I transfer money to another person?
        how do I add a person to my account?
        can I send a gift to someone?
        how many people work at the shop?
        who is the owner of the company?
        do I need to talk to someone to cancel, or can I do it online?
        the human body has how many bones
        tell me a joke about robots
        what time do you open?
        where is my order?
        how do I reset my password?
        can I get a refund?
        how much is delivery?
        do you ship abroad?
        my card was declined
        how do I change my address?
        what are your prices?
        the app keeps crashing
        I want to cancel my subscription
        is there parking nearby?
        can I book a table for four?
        how long does shipping take?
        what is the phone number of your store?
        what are the support hours?
        I want to speak French
        I want to talk about my order
        can you talk slower
        I prefer to chat here
    """),
    "es": _lines("""
        no necesito hablar con nadie
        ¿hablo con una máquina?
        ¿cuántos empleados tienen?
        no hace falta una persona, gracias
        ¿eres un robot?
        ¿a qué hora abren?
        ¿dónde está mi pedido?
        quiero cambiar mi contraseña
        el empleado fue muy amable
        ¿cuánto cuesta el envío?
        ¿puedo transferir dinero a otra persona?
    """),
    "fr": _lines("""
        je n'ai pas besoin de parler à quelqu'un
        je parle à une machine ?
        combien d'employés avez-vous ?
        pas besoin d'un humain, merci
        est-ce que tu es un robot ?
        à quelle heure ouvrez-vous ?
        où est ma commande ?
        comment changer mon mot de passe ?
        le conseiller était très sympa
        combien coûte la livraison ?
        je veux envoyer de l'argent à quelqu'un
    """),
    "de": _lines("""
        ich muss mit niemandem sprechen
        rede ich mit einer Maschine?
        wie viele Mitarbeiter haben Sie?
        ich brauche keinen Mitarbeiter, danke
        bist du ein Bot?
        wann haben Sie geöffnet?
        wo ist meine Bestellung?
        wie ändere ich mein Passwort?
        der Mitarbeiter war sehr freundlich
        was kostet der Versand?
        kann ich Geld an eine andere Person überweisen?
    """),
    "pt": _lines("""
        não preciso falar com ninguém
        estou falando com uma máquina?
        quantos funcionários vocês têm?
        não preciso de atendente, obrigado
        você é um robô?
        que horas vocês abrem?
        onde está meu pedido?
        como troco minha senha?
        o atendente foi muito educado
        quanto custa o frete?
        posso transferir dinheiro para outra pessoa?
    """),
    "it": _lines("""
        non ho bisogno di parlare con nessuno
        sto parlando con una macchina?
        quanti dipendenti avete?
        non serve un operatore, grazie
        sei un bot?
        a che ora aprite?
        dov'è il mio ordine?
        come cambio la password?
        l'operatore è stato gentilissimo
        quanto costa la spedizione?
        posso inviare denaro a un'altra persona?
    """),
    "nl": _lines("""
        ik hoef met niemand te praten
        praat ik met een computer?
        hoeveel personeel werkt er?
        hoe vraag ik een terugbetaling aan?
        ik heb geen medewerker nodig, dank je
        ben jij een bot?
        hoe laat gaan jullie open?
        waar is mijn bestelling?
        hoe verander ik mijn wachtwoord?
        de medewerker was erg vriendelijk
        wat kost de verzending?
        kan ik geld overmaken naar een andere persoon?
    """),
    "ja": _lines("""
        誰かと話す必要はないです
        これは自動応答ですか
        従業員は何人ですか
        返金してほしいです
        担当者は必要ありません
        あなたはロボットですか
        営業時間は何時からですか
        注文した商品はどこですか
        パスワードを変更したい
        スタッフの対応がとても良かったです
        送料はいくらですか
        他の人に送金できますか
    """),
    "zh": _lines("""
        不用找人工
        这是自动回复吗
        你们公司有多少人
        我想退款
        不需要人工，谢谢
        你是机器人吗
        你们几点开门
        我的订单在哪里
        怎么修改密码
        客服人员态度很好
        运费多少钱
        可以给别人转账吗
    """),
    "ko": _lines("""
        사람이랑 얘기할 필요 없어요
        이거 자동 응답이에요?
        직원이 몇 명인가요
        환불하고 싶어요
        상담원은 필요 없어요
        너 로봇이야?
        몇 시에 문을 여나요
        주문한 물건은 어디 있나요
        비밀번호를 바꾸고 싶어요
        직원이 아주 친절했어요
        배송비는 얼마예요
    """),
    "ru": _lines("""
        мне не нужно ни с кем говорить
        это автоответчик?
        сколько человек у вас работает?
        хочу вернуть деньги
        оператор не нужен, спасибо
        ты бот?
        во сколько вы открываетесь?
        где мой заказ?
        как сменить пароль?
        сотрудник был очень вежлив
        сколько стоит доставка?
    """),
    "pl": _lines("""
        nie muszę z nikim rozmawiać
        czy to automatyczna odpowiedź?
        ilu ludzi u was pracuje?
        chcę zwrotu pieniędzy
        nie potrzebuję konsultanta, dziękuję
        czy jesteś botem?
        o której otwieracie?
        gdzie jest moje zamówienie?
        jak zmienić hasło?
        pracownik był bardzo miły
        ile kosztuje wysyłka?
    """),
    "tr": _lines("""
        kimseyle konuşmama gerek yok
        bu otomatik bir cevap mı?
        şirkette kaç kişi çalışıyor?
        paramı geri istiyorum
        temsilciye gerek yok, teşekkürler
        sen bir bot musun?
        saat kaçta açılıyorsunuz?
        siparişim nerede?
        şifremi nasıl değiştiririm?
        çalışan çok kibardı
        kargo ücreti ne kadar?
    """),
    "sv": _lines("""
        jag behöver inte prata med en människa
        är det här ett automatiskt svar?
        hur många jobbar hos er?
        jag vill ha pengarna tillbaka
        jag behöver ingen handläggare, tack
        är du en bot?
        när öppnar ni?
        var är min beställning?
        hur byter jag lösenord?
        personalen var väldigt trevlig
        vad kostar frakten?
    """),
    "ar": _lines("""
        لا أحتاج للتحدث مع أحد
        هل هذا رد آلي؟
        كم شخص يعمل لديكم؟
        أريد استرداد أموالي
        لا أحتاج إلى موظف، شكرا
        هل أنت روبوت؟
        متى تفتحون؟
        أين طلبي؟
        كيف أغير كلمة المرور؟
        كان الموظف لطيفا جدا
        كم تكلفة الشحن؟
    """),
    "hi": _lines("""
        kisi se baat karne ki zarurat nahi
        kya ye automatic reply hai?
        aapki company mein kitne log kaam karte hain?
        mujhe refund chahiye
        mujhe agent ki zarurat nahi hai
        kya tum bot ho?
        aap kitne baje khulte ho?
        mera order kahan hai?
        password kaise change karu?
        staff bahut achha tha
        delivery charge kitna hai?
    """),
}
